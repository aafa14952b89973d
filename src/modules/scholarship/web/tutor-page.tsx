import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Scroll, Show, useLoad } from '../../../../web/src/ui.js';
import { percentText, sectionPath } from './words.js';

/* A tutor's page (`GET /v1/scholarship/profiles/{address}`): the profile, its roles and subjects,
   and its reputation per subject: answers of closed questions, accepted ones, the distinct askers
   who accepted them, and the score (the Wilson lower bound of askers over answers, in basis
   points; the weight of its votes). */

export function TutorPage(props: { address: string }) {
  const [loaded] = useLoad(() => client.scholarship.profile(props.address), [props.address]);
  return (
    <section>
      <p>
        <a href={sectionPath}>Questions</a>
      </p>
      <Show result={loaded} what="the profile">
        {({ profile, reputation }) => (
          <>
            <h1>{profile.name}</h1>
            <Fields
              rows={[
                ['Account', <HashLink kind="account" value={profile.address} />],
                ['Roles', profile.roles.join(', ')],
                ['Subjects', profile.subjects.join(', ')],
              ]}
            />
            <h2>Reputation</h2>
            {reputation.length === 0 ? (
              <p data-testid="no-reputation">No answer yet.</p>
            ) : (
              <Scroll label="Reputation per subject">
                <table data-testid="reputation">
                  <thead>
                    <tr>
                      <th scope="col">Subject</th>
                      <th scope="col">Answers</th>
                      <th scope="col">Accepted</th>
                      <th scope="col">Distinct askers</th>
                      <th scope="col">Score</th>
                    </tr>
                  </thead>
                  <tbody>
                    {reputation.map((r) => (
                      <tr key={r.subject}>
                        <td>{r.subject}</td>
                        <td>{r.answers}</td>
                        <td>{r.accepted}</td>
                        <td>{r.askers}</td>
                        <td>{percentText(r.score)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </Scroll>
            )}
          </>
        )}
      </Show>
    </section>
  );
}

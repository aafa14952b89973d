import { useState } from 'preact/hooks';

import { client } from '../../../../web/src/node.js';
import { ErrorBox, Field, Show, useLoad } from '../../../../web/src/ui.js';
import { TxButton } from '../../../../web/src/wallet/session.js';
import {
  profileNameLengthMax,
  profileRoles,
  profileSubjectsMax,
  subjects,
  type ProfileRole,
} from '../schema.js';
import { Done, WalletPage } from './page.js';
import { tutorPath } from './words.js';

/* Your own profile (`scholar.profile`): a name, the roles you take (student, tutor, mentor) and
   up to 8 subjects. A tutor answers questions in its subjects (a field covers its branches); the
   profile is also what an upvote needs. Writing it again replaces it. */

const roleWords: Record<ProfileRole, string> = {
  student: 'Student: I ask questions',
  tutor: 'Tutor: I answer questions in my subjects',
  mentor: 'Mentor: I mentor apprentices',
};

export function ProfilePage() {
  return (
    <WalletPage
      title="Your profile"
      intro={
        <>
          Tutors answer questions in the subjects of their profile (a field, such as Mathematics,
          covers its branches). Anyone with a profile may upvote answers.
        </>
      }
      what="write your profile"
    >
      {(addresses) => <ProfileLoader address={addresses[0]!} />}
    </WalletPage>
  );
}

/** The form, filled with the profile the chain holds for `address` (none: an empty one). */
function ProfileLoader(props: { address: string }) {
  const [loaded] = useLoad(
    () =>
      client.scholarship.profile(props.address).then(
        (view) => view.profile,
        (error: unknown) => {
          if ((error as { code?: string }).code === 'profile_not_found') return undefined;
          throw error;
        },
      ),
    [props.address],
  );
  return (
    <Show result={loaded} what="your profile">
      {(profile) => (
        <ProfileForm
          address={props.address}
          name={profile?.name ?? ''}
          roles={profile?.roles ?? ['student']}
          subjects={profile?.subjects ?? []}
        />
      )}
    </Show>
  );
}

function ProfileForm(props: {
  address: string;
  name: string;
  roles: readonly string[];
  subjects: readonly string[];
}) {
  const [name, setName] = useState(props.name);
  const [roles, setRoles] = useState<string[]>([...props.roles]);
  const [chosen, setChosen] = useState<string[]>([...props.subjects]);
  const [saved, setSaved] = useState(false);
  const toggle = (list: string[], item: string, on: boolean) =>
    on ? [...list.filter((x) => x !== item), item] : list.filter((x) => x !== item);
  const full = chosen.length >= profileSubjectsMax;

  if (saved) {
    return (
      <Done testId="profile-saved">
        Profile saved: <a href={tutorPath(props.address)}>see your page</a>.
      </Done>
    );
  }
  return (
    <form onSubmit={(e) => e.preventDefault()} aria-label="Your profile">
      <Field
        id="profile-name"
        label="Name"
        value={name}
        onInput={setName}
        hint={`What others see: 1 to ${profileNameLengthMax} characters.`}
      />
      <fieldset class="scholarship-choices">
        <legend>Roles</legend>
        {profileRoles.map((role) => (
          <div class="field checkbox" key={role}>
            <input
              id={`profile-role-${role}`}
              type="checkbox"
              checked={roles.includes(role)}
              onChange={(e) =>
                setRoles(toggle(roles, role, (e.target as HTMLInputElement).checked))
              }
            />
            <label for={`profile-role-${role}`}>{roleWords[role]}</label>
          </div>
        ))}
      </fieldset>
      <fieldset class="scholarship-choices" aria-describedby="profile-subjects-hint">
        <legend>Subjects</legend>
        <small id="profile-subjects-hint" class="muted">
          Up to {profileSubjectsMax}; {chosen.length} chosen.
        </small>
        <div class="scholarship-subjects">
          {subjects.map((s) => (
            <div class={`field checkbox${s.parent ? ' branch' : ''}`} key={s.id}>
              <input
                id={`profile-subject-${s.id}`}
                type="checkbox"
                checked={chosen.includes(s.id)}
                disabled={full && !chosen.includes(s.id)}
                onChange={(e) =>
                  setChosen(toggle(chosen, s.id, (e.target as HTMLInputElement).checked))
                }
              />
              <label for={`profile-subject-${s.id}`}>{s.name}</label>
            </div>
          ))}
        </div>
      </fieldset>
      <TxButton
        label="Save the profile"
        sender={props.address}
        tx={() => {
          const trimmed = name.trim();
          if (trimmed === '' || trimmed.length > profileNameLengthMax) {
            return {
              code: 'invalid_profile_name',
              message: `A name of 1 to ${profileNameLengthMax} characters.`,
            };
          }
          if (roles.length === 0) {
            return { code: 'invalid_profile_roles', message: 'Choose at least one role.' };
          }
          // In the taxonomy's order, as the chain keeps them.
          const ordered = subjects.map((s) => s.id).filter((id) => chosen.includes(id));
          return {
            type: 'scholar.profile',
            payload: { name: trimmed, roles: [...roles].sort(), subjects: ordered },
          };
        }}
        summary={
          <>
            Write your profile: <strong>{name.trim()}</strong>, {roles.join(', ') || 'no role'}
            {chosen.length > 0 ? `, in ${chosen.join(', ')}` : ''}.
          </>
        }
        onDone={() => setSaved(true)}
      />
      {roles.includes('tutor') && chosen.length === 0 && (
        <ErrorBox
          code="no_subjects"
          message="A tutor without subjects cannot answer: choose the subjects you answer in."
        />
      )}
    </form>
  );
}

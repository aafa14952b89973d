/*
 * The subject taxonomy (issue 22): a small, fixed list as data. Two levels at most: a field
 * (`math`) and its branches (`math.algebra`). A tutor of a field covers its branches; a question
 * names one subject. Changing the list changes which payloads are valid: it is part of the
 * protocol, like a schema.
 */

export interface Subject {
  readonly id: string;
  readonly name: string;
  readonly parent?: string;
}

/** A subject id: a field, or a field and a branch. */
export const subjectIdPattern = /^[a-z]+(\.[a-z]+)?$/;

const field = (id: string, name: string): Subject => ({ id, name });
const branch = (id: string, name: string): Subject => ({
  id,
  name,
  parent: id.slice(0, id.indexOf('.')),
});

export const subjects: readonly Subject[] = Object.freeze([
  field('math', 'Mathematics'),
  branch('math.algebra', 'Algebra'),
  branch('math.calculus', 'Calculus'),
  branch('math.geometry', 'Geometry'),
  branch('math.statistics', 'Statistics'),
  field('physics', 'Physics'),
  branch('physics.mechanics', 'Mechanics'),
  branch('physics.electromagnetism', 'Electromagnetism'),
  branch('physics.quantum', 'Quantum physics'),
  field('cs', 'Computer science'),
  branch('cs.algorithms', 'Algorithms'),
  branch('cs.databases', 'Databases'),
  branch('cs.networks', 'Networks'),
  branch('cs.security', 'Security'),
  field('chemistry', 'Chemistry'),
  branch('chemistry.organic', 'Organic chemistry'),
  branch('chemistry.inorganic', 'Inorganic chemistry'),
  field('biology', 'Biology'),
  branch('biology.genetics', 'Genetics'),
  branch('biology.ecology', 'Ecology'),
  field('history', 'History'),
  branch('history.ancient', 'Ancient history'),
  branch('history.modern', 'Modern history'),
  field('economics', 'Economics'),
  field('philosophy', 'Philosophy'),
  field('languages', 'Languages'),
  branch('languages.english', 'English'),
  branch('languages.french', 'French'),
  branch('languages.spanish', 'Spanish'),
  branch('languages.german', 'German'),
]);

const byId = new Map(subjects.map((s) => [s.id, s]));

/** The subject with this id, if the taxonomy has it. */
export function subjectById(id: string): Subject | undefined {
  return byId.get(id);
}

/** Whether `id` is a subject of the taxonomy. */
export function isSubject(id: unknown): id is string {
  return typeof id === 'string' && byId.has(id);
}

/** The subject and its parent field (if it has one): who covers `id`. */
export function subjectLineage(id: string): string[] {
  const subject = byId.get(id);
  if (subject === undefined) return [];
  return subject.parent === undefined ? [id] : [id, subject.parent];
}

/** Whether a tutor whose profile lists `covered` covers `subject` (itself or its parent). */
export function coversSubject(covered: readonly string[], subject: string): boolean {
  return subjectLineage(subject).some((id) => covered.includes(id));
}

/** Whether `subject` is `field` or one of its branches (a pool's subject match). */
export function withinSubject(subject: string, field: string): boolean {
  return subject === field || subject.startsWith(`${field}.`);
}

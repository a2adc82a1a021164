// Settings: each module declares the environment variables it reads as one class, its section (fields
// named after the variables, class-validator rules, defaults as initialisers). Here they are parsed and
// validated together, so that a bad start names every bad variable of every section at once.
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

/** Another section's parsed values (even if invalid), or undefined when it is not loaded (a CLI loads only what it needs). */
export type SectionLookup = <T extends object>(section: SettingsSection<T>) => T | undefined;

/**
 * A section: a class whose fields are the variables, each with a default (null when there is none: a
 * field without an initialiser is not a variable). `crossCheck` reports problems that involve another
 * section, one line each naming the variables; it runs after every section is parsed.
 */
export interface SettingsSection<T extends object = object> {
  new (): T;
  readonly name: string;
  crossCheck?(lookup: SectionLookup): string[];
}

/** The values of each section of a list, in its order. */
export type SectionValues<S extends readonly SettingsSection[]> = {
  -readonly [I in keyof S]: S[I] extends SettingsSection<infer T> ? Readonly<T> : never;
};

/** The name of any variable of the sections of a list. */
export type VariableName<S extends readonly SettingsSection[]> = {
  [I in keyof S]: S[I] extends SettingsSection<infer T> ? keyof T & string : never;
}[number];

const SECRETS = Symbol('secret settings');

/** On a variable whose value an error message must not repeat. */
export function Secret(): PropertyDecorator {
  return (target: object, property: string | symbol) => {
    const owner = target.constructor as { [SECRETS]?: Set<string> };
    // Own set per class: a subclass must not add to its parent's.
    if (!Object.prototype.hasOwnProperty.call(owner, SECRETS)) owner[SECRETS] = new Set(owner[SECRETS]);
    owner[SECRETS]!.add(String(property));
  };
}

const isSecret = (section: SettingsSection, variable: string) => (section as { [SECRETS]?: Set<string> })[SECRETS]?.has(variable) === true;

/** The variables of a section, as its fields name them. */
export function variablesOf(section: SettingsSection): string[] {
  return Object.keys(new section());
}

/**
 * Parses every section from `raw` (unset and empty variables take their default) and returns their
 * values in the same order, or throws one error that lists every bad variable of every section.
 */
export function loadSettings<const S extends readonly SettingsSection[]>(sections: S, raw: Record<string, unknown>): SectionValues<S> {
  const owners = new Map<string, string>();
  const parsed = new Map<SettingsSection, object>();
  const problems: string[] = [];
  for (const section of sections) {
    const picked: Record<string, unknown> = {};
    for (const variable of variablesOf(section)) {
      const owner = owners.get(variable);
      // A programming error, not a bad environment: two modules would read one variable differently.
      if (owner) throw new Error(`${variable} is declared by two settings sections, ${owner} and ${section.name}`);
      owners.set(variable, section.name);
      if (raw[variable] !== undefined && raw[variable] !== '') picked[variable] = raw[variable];
    }
    const values = plainToInstance(section, picked, { exposeDefaultValues: true });
    for (const e of validateSync(values, { skipMissingProperties: false })) {
      const shown = isSecret(section, e.property) ? '(hidden)' : JSON.stringify(e.value);
      problems.push(`${e.property}=${shown}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    }
    parsed.set(section, values);
  }
  const lookup: SectionLookup = <T extends object>(section: SettingsSection<T>) => parsed.get(section) as T | undefined;
  for (const section of sections) problems.push(...(section.crossCheck?.(lookup) ?? []));
  if (problems.length > 0) throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return sections.map((section) => Object.freeze(parsed.get(section)!)) as SectionValues<S>;
}

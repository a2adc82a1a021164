// DATABASE_URL: checked at boot, and never shown with its password.
import { registerDecorator, ValidationArguments } from 'class-validator';

const SCHEMES = new Set(['postgres:', 'postgresql:']);

/** Why `value` is not a usable PostgreSQL URL, or null when it is. The reason never repeats the password. */
export function postgresUrlProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a postgres:// URL';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL (postgres://user:password@host:port/database)';
  }
  if (!SCHEMES.has(url.protocol))
    return `has the scheme ${JSON.stringify(url.protocol.slice(0, -1))}: only postgres and postgresql are supported`;
  if (!url.hostname) return 'names no host (postgres://user:password@host:port/database)';
  if (url.pathname.length <= 1) return 'names no database (postgres://user:password@host:port/database)';
  return null;
}

export function IsPostgresUrl(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isPostgresUrl',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) => postgresUrlProblem(value) === null,
        defaultMessage: (args?: ValidationArguments) => `DATABASE_URL ${postgresUrlProblem(args?.value) ?? 'is invalid'}`,
      },
    });
}

/** The URL as it may be logged or shown: the password replaced by `***`. Text that is no URL is not shown at all. */
export function maskDatabaseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(an invalid URL)';
  }
}

/**
 * Errors the domain raises, typed by code; the exception filter maps codes to HTTP statuses in one
 * place, so services never throw HttpExceptions.
 */
export enum ErrorCode {
  NotFound = 'not-found',
  Conflict = 'conflict',
  StaleVersion = 'stale-version',
  InUse = 'in-use',
  Invalid = 'invalid',
  Unprocessable = 'unprocessable',
  Unavailable = 'unavailable',
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
}

export interface FieldProblem {
  field: string;
  message: string;
  rule?: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors: FieldProblem[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static notFound(what: string, id: string): DomainError {
    return new DomainError(ErrorCode.NotFound, `${what} ${id} does not exist`);
  }

  static conflict(message: string, field?: string): DomainError {
    return new DomainError(ErrorCode.Conflict, message, field ? [{ field, message }] : []);
  }

  static unprocessable(message: string, field?: string): DomainError {
    return new DomainError(ErrorCode.Unprocessable, message, field ? [{ field, message }] : []);
  }
}

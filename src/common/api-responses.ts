import { applyDecorators } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiUnprocessableEntityResponse } from '@nestjs/swagger';

const problem = { description: 'application/problem+json' };

/** The error answers every write endpoint can give, documented once. */
export function ApiWriteErrors(): MethodDecorator {
  return applyDecorators(
    ApiBadRequestResponse({ description: 'Invalid input: the problem lists each field and rule' }),
    ApiNotFoundResponse(problem),
    ApiConflictResponse({ description: 'Name already used in the cluster, stale version, or still in use' }),
    ApiUnprocessableEntityResponse({ description: 'Refers to something that does not exist or belongs to another cluster' }),
  );
}

import { ApiOperation } from '@nestjs/swagger';

/**
 * Pins an operation's OpenAPI operationId to the one Nest derived from a controller's former class name, so that a
 * rename leaves the document, and clients generated from it, unchanged. `summary: undefined` keeps ApiOperation
 * from adding an empty summary that the derived operation never had.
 */
export function FormerOperationId(controller: string, method: string): MethodDecorator {
  return ApiOperation({ operationId: `${controller}_${method}`, summary: undefined });
}

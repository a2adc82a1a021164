// HTTP setup shared by main.ts and the e2e tests, so that tests run the app exactly as served.
import { INestApplication, RequestMethod } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger } from 'nestjs-pino';
import { problem, PROBLEM_CONTENT_TYPE } from './common/problem';
import { createValidationPipe } from './common/validation';
import { requestTimeout } from './common/request-timeout';
import { AppConfig } from './config/app-config';
import { httpMetrics } from './telemetry/http-metrics.middleware';
import { accessLog } from './telemetry/access-log';
import { TelemetryEvents } from './telemetry/telemetry-events';

export const API_PREFIX = 'api/v1';
/** Large enough for a 10,000-VM inventory sync or 50,000 samples in one request. */
export const BODY_LIMIT = '32mb';

/** A body that is not JSON gets a 415 before it reaches a route (express would otherwise ignore it). */
function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && ['POST', 'PUT', 'PATCH'].includes(req.method) && !req.is(['application/json', 'application/*+json'])) {
    const body = problem(415, `Content-Type must be application/json, not ${req.headers['content-type'] ?? 'missing'}`);
    res.status(415).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify({ ...body, instance: req.path }));
    return;
  }
  next();
}

const MAX_BODY_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Where the parsed body nests deeper than any endpoint needs, or uses a prototype key; else undefined. */
export function bodyShapeProblem(body: unknown): { field: string; message: string } | undefined {
  const stack: [unknown, string, number][] = [[body, '', 0]];
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) return { field: path || 'body', message: `the body nests deeper than ${MAX_BODY_DEPTH} levels` };
    for (const key of Object.keys(value)) {
      const field = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) return { field, message: `${field} is not an accepted field` };
      stack.push([(value as Record<string, unknown>)[key], field, depth + 1]);
    }
  }
  return undefined;
}

/** Runs after the JSON parser, before validation walks the body recursively. */
function checkBodyShape(req: Request, res: Response, next: NextFunction): void {
  const fault = bodyShapeProblem(req.body);
  if (fault) {
    const body = problem(400, fault.message, [fault]);
    res.status(400).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify({ ...body, instance: req.path }));
    return;
  }
  next();
}

/** helmet's headers everywhere; the Swagger UI at /docs needs inline scripts, so its pages go without a CSP. */
function securityHeaders(): (req: Request, res: Response, next: NextFunction) => void {
  const strict = helmet();
  const docs = helmet({ contentSecurityPolicy: false });
  return (req, res, next) => (req.path === '/docs' || req.path.startsWith('/docs/') ? docs : strict)(req, res, next);
}

export function configureApp(app: NestExpressApplication): INestApplication {
  const config = app.get(AppConfig);
  app.useLogger(app.get(Logger));
  app.use(httpMetrics(app.get(TelemetryEvents)));
  app.use(accessLog());
  app.use(securityHeaders());
  const origins = config
    .get('CORS_ORIGINS')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  // Closed unless origins are configured: no Access-Control-* header is sent at all.
  if (origins.length > 0) app.enableCors({ origin: origins, allowedHeaders: ['Authorization', 'Content-Type'], maxAge: 600 });
  const timeoutMs = config.get('REQUEST_TIMEOUT_SECONDS') * 1000;
  const server = app.getHttpServer() as Server;
  server.requestTimeout = timeoutMs;
  server.headersTimeout = Math.min(timeoutMs, 60_000);
  // What Node refuses before any route runs (headers over 16 KiB, a request too slow to arrive, bad HTTP) is problem+json too.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const detail =
      status === 431 ? 'The request line and headers are larger than the service reads (16 KiB)' : status === 408 ? 'The request took too long to arrive' : 'The request is not valid HTTP';
    const body = JSON.stringify(problem(status, detail));
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  app.use(requestTimeout(timeoutMs));
  app.use(requireJsonBody);
  app.useBodyParser('json', { limit: BODY_LIMIT, type: ['application/json', 'application/*+json'] });
  app.use(checkBodyShape);
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  app.disable('x-powered-by');

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('DRS scheduler')
      .setDescription(
        'Automatic load balancing for virtualization clusters: inventory, utilization, balancing plans and live migrations. Errors are application/problem+json.',
      )
      .setVersion('1')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

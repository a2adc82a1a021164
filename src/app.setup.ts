// HTTP setup shared by main.ts and the e2e tests, so that tests run the app exactly as served.
import { INestApplication, RequestMethod } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ThrottlerStorage } from '@nestjs/throttler';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger } from 'nestjs-pino';
import { problem, PROBLEM_CONTENT_TYPE } from './common/problem';
import { createValidationPipe } from './common/validation';
import { jsonBodyReader } from './common/json-body';
import { parseAllowedHosts } from './auth/listen-policy';
import { rateLimit } from './auth/rate-limit';
import { requestAccess } from './auth/request-access';
import { TokensService } from './auth/tokens.service';
import { MAX_GROUP_MEMBERS } from './inventory/dto/group.dto';
import { MAX_SYNC_HOSTS, MAX_SYNC_VMS } from './inventory/dto/inventory-sync.dto';
import { MAX_SAMPLES_PER_REQUEST } from './samples/sample-input';
import { requestTimeout } from './common/request-timeout';
import { ServerSettings } from './common/server.settings';
import { httpMetrics } from './observability/http-metrics.middleware';
import { accessLog } from './observability/access-log';
import { MetricsRecorder } from './observability/metrics-recorder';

export const API_PREFIX = 'api/v1';
/** Decompressed; large enough for a 10,000-VM inventory sync or 50,000 samples in one request. */
export const BODY_LIMIT_BYTES = 32 * 1024 * 1024;

/**
 * The shapes no endpoint takes, refused while the body streams in. The longest legitimate list is an
 * inventory sync's VMs (MAX_SYNC_VMS); a full sync with every optional field holds about 11 values per
 * VM and 8 per host, so twice that budget leaves room without letting a body of bare zeros through.
 */
export const BODY_SHAPE = {
  maxDepth: 32,
  maxElements: Math.max(MAX_SYNC_VMS, MAX_SYNC_HOSTS, MAX_SAMPLES_PER_REQUEST, MAX_GROUP_MEMBERS),
  maxValues: 2 * (MAX_SYNC_VMS * 11 + MAX_SYNC_HOSTS * 8),
};

/** helmet's headers everywhere; the Swagger UI at /docs needs inline scripts, so its pages go without a CSP. */
function securityHeaders(): (req: Request, res: Response, next: NextFunction) => void {
  const strict = helmet();
  const docs = helmet({ contentSecurityPolicy: false });
  return (req, res, next) => (req.path === '/docs' || req.path.startsWith('/docs/') ? docs : strict)(req, res, next);
}

export function configureApp(app: NestExpressApplication): INestApplication {
  const settings = app.get(ServerSettings);
  app.useLogger(app.get(Logger));
  app.use(httpMetrics(app.get(MetricsRecorder)));
  app.use(accessLog());
  app.use(securityHeaders());
  const timeoutMs = settings.REQUEST_TIMEOUT_SECONDS * 1000;
  app.use(requestTimeout(timeoutMs));
  // Before any body is read and before routing, for every path: the rate limit, then the Host and token checks.
  app.use(
    rateLimit(app.get<ThrottlerStorage>(ThrottlerStorage), {
      max: settings.RATE_LIMIT_MAX,
      windowSeconds: settings.RATE_LIMIT_WINDOW_SECONDS,
    }),
  );
  const origins = settings.CORS_ORIGINS.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  // Closed unless origins are configured: no Access-Control-* header is sent at all.
  if (origins.length > 0) app.enableCors({ origin: origins, allowedHeaders: ['Authorization', 'Content-Type'], maxAge: 600 });
  app.use(requestAccess(app.get(TokensService), parseAllowedHosts(settings.ALLOWED_HOSTS)));
  const server: Server = app.getHttpServer();
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
      status === 431
        ? 'The request line and headers are larger than the service reads (16 KiB)'
        : status === 408
          ? 'The request took too long to arrive'
          : 'The request is not valid HTTP';
    const body = JSON.stringify(problem(status, detail));
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  app.use(jsonBodyReader({ maxBytes: BODY_LIMIT_BYTES, ...BODY_SHAPE }));
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

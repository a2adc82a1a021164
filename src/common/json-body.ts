// Reads JSON request bodies under caps while they stream in: decompressed bytes are counted as they
// arrive (413 at the limit, whatever the compressed size), and each chunk goes through a shape scan
// (depth, elements per container, values in all) before any of it is parsed. A breach answers at once
// and the rest of the body is read off the wire without being decompressed or kept.
import type { NextFunction, Request, Response } from 'express';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { FieldProblem } from './domain-error';
import { JsonShapeScanner, ShapeLimits } from './json-scanner';
import { problem, PROBLEM_CONTENT_TYPE } from './problem';

export interface BodyLimits extends ShapeLimits {
  /** Decompressed bytes. */
  maxBytes: number;
}

const JSON_TYPES = ['application/json', 'application/*+json'];
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const DECOMPRESSORS: Record<string, () => NodeJS.ReadWriteStream> = {
  gzip: createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** Whether the request announces a body (a Content-Length, even 0, or a chunked body): an empty JSON one reads as `{}`, as body-parser did. */
export function hasBody(req: Request): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '')
  );
}

/** Whether the request may carry at least one byte of body. */
export function carriesBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

export function sendProblem(req: Request, res: Response, status: number, detail: string, errors?: FieldProblem[]): void {
  if (res.headersSent) return;
  const body = JSON.stringify({ ...problem(status, detail, errors), instance: req.originalUrl.split('?')[0] });
  res.status(status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** The body's charset, when the Content-Type names one. */
function charsetOf(req: Request): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
}

/**
 * Sets `req.body` to the parsed JSON body; answers 413, 415 or 400 (problem+json) and never calls
 * `next` when the body is too large, not JSON, in another charset or encoding, or of a refused shape.
 */
export function jsonBodyReader(limits: BodyLimits): (req: Request, res: Response, next: NextFunction) => void {
  const tooLarge = `The request body is larger than the service accepts (${Math.round(limits.maxBytes / 1024 / 1024)} MB once decompressed)`;
  return (req, res, next) => {
    if (!hasBody(req)) return next();
    if (!req.is(JSON_TYPES)) {
      // Other methods never take a body: one of another type is left unread, as it always was.
      if (!BODY_METHODS.has(req.method) || !carriesBody(req)) return next();
      return sendProblem(req, res, 415, `Content-Type must be application/json, not ${req.headers['content-type'] ?? 'missing'}`);
    }
    const charset = charsetOf(req);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return sendProblem(req, res, 415, `The request body must be UTF-8, not ${charset}`);
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    const decompressor = encoding === 'identity' ? undefined : DECOMPRESSORS[encoding];
    if (encoding !== 'identity' && !decompressor) {
      return sendProblem(req, res, 415, `Content-Encoding ${encoding.slice(0, 40)} is not supported: send gzip, deflate, br or none`);
    }
    if (Number(req.headers['content-length']) > limits.maxBytes) return sendProblem(req, res, 413, tooLarge);

    const inflater = decompressor?.();
    const source: Readable = inflater ? (req.pipe(inflater) as unknown as Readable) : req;
    const scanner = new JsonShapeScanner(limits);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;

    const stop = () => {
      done = true;
      source.removeListener('data', onData);
      source.removeListener('end', onEnd);
      source.removeListener('error', onError);
      req.removeListener('close', onClose);
      if (inflater) {
        req.unpipe(inflater);
        (inflater as unknown as Readable).destroy();
      }
      chunks.length = 0;
    };
    /** Answers now; what is left of the body is read off the wire and dropped, so that the answer reaches the client. */
    const refuse = (status: number, detail: string, errors?: FieldProblem[]) => {
      stop();
      req.resume();
      sendProblem(req, res, status, detail, errors);
    };
    function onData(chunk: Buffer): void {
      if (done) return;
      size += chunk.length;
      if (size > limits.maxBytes) return refuse(413, tooLarge);
      const breach = scanner.write(chunk);
      if (breach) return refuse(400, `The request body is refused before reading it further: ${breach.message}`, [breach]);
      chunks.push(chunk);
    }
    function onEnd(): void {
      if (done) return;
      const buffer = Buffer.concat(chunks, size);
      stop();
      let text = buffer.toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      const first = /^[ \t\n\r]*(.)?/s.exec(text)?.[1];
      if (first === undefined) {
        req.body = {};
        return next();
      }
      if (first !== '{' && first !== '[')
        return sendProblem(req, res, 400, 'The request body is not valid JSON: it must be an object or an array');
      try {
        req.body = JSON.parse(text) as unknown;
      } catch {
        return sendProblem(req, res, 400, 'The request body is not valid JSON');
      }
      next();
    }
    function onError(): void {
      if (done) return;
      refuse(400, inflater ? `The request body could not be decompressed as ${encoding}` : 'The request body could not be read');
    }
    /** The client went away before the body was complete: nobody is left to answer. */
    function onClose(): void {
      if (!done && !req.complete) stop();
    }
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    req.on('close', onClose);
  };
}

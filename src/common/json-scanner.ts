// An incremental scan of JSON text, chunk by chunk, that refuses shapes no endpoint takes before
// anything is parsed: JSON.parse of 15 million `0`s (30 MB) costs gigabytes, while counting them here
// costs nothing and stops at the first element over the cap. It follows structure only (strings,
// escapes, containers, commas); whether the text is valid JSON is left to JSON.parse afterwards.

export interface ShapeLimits {
  /** Containers nested inside one another, the body itself included. */
  maxDepth: number;
  /** Elements of one array, or members of one object. */
  maxElements: number;
  /** Values of every kind (containers included) in the whole body. */
  maxValues: number;
}

export interface ShapeBreach {
  /** The path of the offending container or key, `samples` or `vms.12.name`; `body` for the body itself. */
  field: string;
  rule: 'maxDepth' | 'maxElements' | 'maxValues' | 'forbiddenKey';
  message: string;
}

/** Keys that would reach an object's prototype once parsed and merged. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Keys longer than this are kept for error paths only in part; none of FORBIDDEN_KEYS comes close, escaped or not. */
const KEY_CAPTURE_BYTES = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

interface Frame {
  isArray: boolean;
  /** Elements (array) or keys (object) seen so far. */
  count: number;
  /** The key whose value is being read (objects). */
  key: string;
  /** After `{` or `,`: the next string is a key. */
  expectKey: boolean;
}

export class JsonShapeScanner {
  private readonly frames: Frame[] = [];
  private values = 0;
  private inString = false;
  private escaped = false;
  private inScalar = false;
  /** Raw bytes of the key being read, when the string is a key. */
  private key: Buffer[] | undefined;
  private keyBytes = 0;
  private breach: ShapeBreach | undefined;

  constructor(private readonly limits: ShapeLimits) {}

  /** Scans the next chunk of the text; returns the first breach found (then and on every later call). */
  write(chunk: Buffer): ShapeBreach | undefined {
    if (this.breach) return this.breach;
    const n = chunk.length;
    // Where the next backslash is: looked up once per chunk and on passing it, never once per string.
    let nextBackslash = -1;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          this.captureKey(chunk, i, i + 1);
          i++;
          continue;
        }
        if (nextBackslash !== Infinity && nextBackslash < i) {
          nextBackslash = chunk.indexOf(BACKSLASH, i);
          if (nextBackslash === -1) nextBackslash = Infinity;
        }
        const quote = chunk.indexOf(QUOTE, i);
        const end = quote === -1 ? n : quote;
        if (nextBackslash < end) {
          this.captureKey(chunk, i, nextBackslash + 1);
          this.escaped = true;
          i = nextBackslash + 1;
          continue;
        }
        this.captureKey(chunk, i, end);
        if (quote === -1) return undefined;
        this.inString = false;
        i = quote + 1;
        if (this.key) {
          const fault = this.endKey();
          if (fault) return (this.breach = fault);
        }
        continue;
      }
      const c = chunk[i++];
      switch (c) {
        case 0x20:
        case 0x09:
        case 0x0a:
        case 0x0d:
          this.inScalar = false;
          break;
        case QUOTE: {
          this.inScalar = false;
          this.inString = true;
          const top = this.frames[this.frames.length - 1];
          if (top && !top.isArray && top.expectKey) {
            top.expectKey = false;
            top.count++;
            if (top.count > this.limits.maxElements) return (this.breach = this.tooMany(this.frames.length - 1, 'members'));
            this.key = [];
            this.keyBytes = 0;
          } else {
            const fault = this.valueStarts();
            if (fault) return (this.breach = fault);
          }
          break;
        }
        case OPEN_OBJECT:
        case OPEN_ARRAY: {
          this.inScalar = false;
          const fault = this.valueStarts();
          if (fault) return (this.breach = fault);
          if (this.frames.length >= this.limits.maxDepth) {
            return (this.breach = {
              field: this.pathOf(this.frames.length),
              rule: 'maxDepth',
              message: `${this.pathOf(this.frames.length)} nests deeper than ${this.limits.maxDepth} levels, more than any request needs`,
            });
          }
          this.frames.push({ isArray: c === OPEN_ARRAY, count: 0, key: '', expectKey: c === OPEN_OBJECT });
          break;
        }
        case CLOSE_OBJECT:
        case CLOSE_ARRAY:
          this.inScalar = false;
          this.frames.pop();
          break;
        case COMMA: {
          this.inScalar = false;
          const top = this.frames[this.frames.length - 1];
          if (top && !top.isArray) top.expectKey = true;
          break;
        }
        case COLON:
          this.inScalar = false;
          break;
        default:
          // A number or a literal (true, false, null, or junk for JSON.parse to refuse): one value per run of such bytes.
          if (!this.inScalar) {
            this.inScalar = true;
            const fault = this.valueStarts();
            if (fault) return (this.breach = fault);
          }
      }
    }
    return undefined;
  }

  private valueStarts(): ShapeBreach | undefined {
    this.values++;
    const depth = this.frames.length;
    const top = this.frames[depth - 1];
    if (top?.isArray) {
      top.count++;
      if (top.count > this.limits.maxElements) return this.tooMany(depth - 1, 'elements');
    }
    if (this.values > this.limits.maxValues) {
      const field = this.pathOf(depth);
      return { field, rule: 'maxValues', message: `the body holds more than ${this.limits.maxValues} values, more than any request needs (at ${field})` };
    }
    return undefined;
  }

  private tooMany(frameIndex: number, what: 'elements' | 'members'): ShapeBreach {
    const field = this.pathOf(frameIndex);
    return { field, rule: 'maxElements', message: `${field} has more than ${this.limits.maxElements} ${what}, more than any request takes` };
  }

  /** The path of the container at `frames[depth]` (or of the value about to start there): the keys and indexes above it. */
  private pathOf(depth: number): string {
    const parts: string[] = [];
    for (let k = 0; k < depth; k++) {
      const frame = this.frames[k];
      parts.push(frame.isArray ? String(frame.count - 1) : frame.key);
    }
    return parts.length > 0 ? parts.join('.') : 'body';
  }

  private captureKey(chunk: Buffer, from: number, to: number): void {
    if (!this.key || to <= from) return;
    const room = KEY_CAPTURE_BYTES + 1 - this.keyBytes;
    if (room <= 0) return;
    const part = chunk.subarray(from, Math.min(to, from + room));
    this.key.push(Buffer.from(part));
    this.keyBytes += part.length;
  }

  private endKey(): ShapeBreach | undefined {
    const raw = Buffer.concat(this.key!).toString('utf8');
    const truncated = this.keyBytes > KEY_CAPTURE_BYTES;
    this.key = undefined;
    let name = truncated ? `${raw.slice(0, 40)}…` : raw;
    if (!truncated && raw.includes('\\')) {
      try {
        name = JSON.parse(`"${raw}"`) as string;
      } catch {
        // A broken escape: JSON.parse of the whole body refuses it later.
      }
    }
    const top = this.frames[this.frames.length - 1];
    top.key = name;
    if (!truncated && FORBIDDEN_KEYS.has(name)) {
      const field = this.pathOf(this.frames.length);
      return { field, rule: 'forbiddenKey', message: `${field} is not an accepted field` };
    }
    return undefined;
  }
}

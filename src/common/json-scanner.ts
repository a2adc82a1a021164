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

export class JsonShapeScanner {
  // The open containers, innermost last, as parallel arrays: one object per `{}` would cost more than the scan.
  private depth = 0;
  private readonly isArray: Uint8Array;
  /** Elements (array) or keys (object) seen so far. */
  private readonly count: Float64Array;
  /** After `{` or `,` in an object: the next string is a key. */
  private readonly expectKey: Uint8Array;
  /** The key whose value is being read, per object: decoded only for an error message (see keyName). */
  private readonly keyChunk: (Buffer | undefined)[];
  private readonly keyStart: Int32Array;
  private readonly keyEnd: Int32Array;
  private readonly keyText: (string | undefined)[];

  private values = 0;
  private inString = false;
  private escaped = false;
  private inScalar = false;
  /** Reading a key: where it started in the current chunk, or -1 once it spans chunks or holds an escape (then `keyParts`). */
  private readingKey = false;
  private keyFrom = -1;
  private keyParts: Buffer[] = [];
  private keyBytes = 0;
  private breach: ShapeBreach | undefined;

  constructor(private readonly limits: ShapeLimits) {
    const size = limits.maxDepth + 1;
    this.isArray = new Uint8Array(size);
    this.count = new Float64Array(size);
    this.expectKey = new Uint8Array(size);
    this.keyChunk = new Array<Buffer | undefined>(size);
    this.keyStart = new Int32Array(size);
    this.keyEnd = new Int32Array(size);
    this.keyText = new Array<string | undefined>(size);
  }

  /** Scans the next chunk of the text; returns the first breach found (then and on every later call). */
  write(chunk: Buffer): ShapeBreach | undefined {
    if (this.breach) return this.breach;
    const n = chunk.length;
    // Where the next backslash is: looked up once per chunk and on passing it, never once per string.
    let nextBackslash = -1;
    let i = 0;
    if (this.readingKey && this.inString) this.keyFrom = -1;
    while (i < n) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          if (this.readingKey) this.captureKey(chunk, i, i + 1);
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
          if (this.readingKey) this.captureKey(chunk, i, nextBackslash + 1);
          this.escaped = true;
          i = nextBackslash + 1;
          continue;
        }
        if (quote === -1) {
          if (this.readingKey) this.captureKey(chunk, i, n);
          return undefined;
        }
        this.inString = false;
        if (this.readingKey) {
          this.readingKey = false;
          const fault = this.endKey(chunk, i, quote);
          if (fault) return (this.breach = fault);
        }
        i = quote + 1;
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
          const top = this.depth - 1;
          if (top >= 0 && this.isArray[top] === 0 && this.expectKey[top] === 1) {
            this.expectKey[top] = 0;
            if (++this.count[top] > this.limits.maxElements) return (this.breach = this.tooMany(top, 'members'));
            this.readingKey = true;
            this.keyFrom = i;
            this.keyParts = [];
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
          const d = this.depth;
          if (d >= this.limits.maxDepth) {
            const field = this.pathOf(d);
            return (this.breach = {
              field,
              rule: 'maxDepth',
              message: `${field} nests deeper than ${this.limits.maxDepth} levels, more than any request needs`,
            });
          }
          this.isArray[d] = c === OPEN_ARRAY ? 1 : 0;
          this.count[d] = 0;
          this.expectKey[d] = c === OPEN_OBJECT ? 1 : 0;
          this.keyChunk[d] = undefined;
          this.keyText[d] = undefined;
          this.depth = d + 1;
          break;
        }
        case CLOSE_OBJECT:
        case CLOSE_ARRAY:
          this.inScalar = false;
          if (this.depth > 0) this.depth--;
          break;
        case COMMA:
          this.inScalar = false;
          if (this.depth > 0 && this.isArray[this.depth - 1] === 0) this.expectKey[this.depth - 1] = 1;
          break;
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
    const top = this.depth - 1;
    if (top >= 0 && this.isArray[top] === 1 && ++this.count[top] > this.limits.maxElements) return this.tooMany(top, 'elements');
    if (this.values > this.limits.maxValues) {
      const field = this.pathOf(this.depth);
      return {
        field,
        rule: 'maxValues',
        message: `the body holds more than ${this.limits.maxValues} values, more than any request needs (at ${field})`,
      };
    }
    return undefined;
  }

  private tooMany(level: number, what: 'elements' | 'members'): ShapeBreach {
    const field = this.pathOf(level);
    return {
      field,
      rule: 'maxElements',
      message: `${field} has more than ${this.limits.maxElements} ${what}, more than any request takes`,
    };
  }

  /** The path of the container at `level` (or of the value about to start there): the keys and indexes above it. */
  private pathOf(level: number): string {
    const parts: string[] = [];
    for (let k = 0; k < level; k++) parts.push(this.isArray[k] === 1 ? String(this.count[k] - 1) : this.keyName(k));
    return parts.length > 0 ? parts.join('.') : 'body';
  }

  private keyName(level: number): string {
    const text = this.keyText[level];
    if (text !== undefined) return text;
    const chunk = this.keyChunk[level];
    return chunk ? decodeKey(chunk.toString('utf8', this.keyStart[level], this.keyEnd[level])) : '';
  }

  /** Keeps the bytes of a key that spans chunks or holds an escape (rare), up to what an error path shows. */
  private captureKey(chunk: Buffer, from: number, to: number): void {
    if (this.keyFrom >= 0) {
      // Until now the key lay in this chunk from keyFrom: keep that part too.
      from = this.keyFrom;
      this.keyFrom = -1;
    }
    const room = KEY_CAPTURE_BYTES + 1 - this.keyBytes;
    if (room <= 0 || to <= from) return;
    const part = Buffer.from(chunk.subarray(from, Math.min(to, from + room)));
    this.keyParts.push(part);
    this.keyBytes += part.length;
  }

  private endKey(chunk: Buffer, from: number, to: number): ShapeBreach | undefined {
    const top = this.depth - 1;
    let name: string | undefined;
    if (this.keyFrom >= 0) {
      // The common case: the whole key in this chunk, without escapes. Kept by reference, decoded only if needed.
      const length = to - this.keyFrom;
      this.keyChunk[top] = chunk;
      this.keyStart[top] = this.keyFrom;
      this.keyEnd[top] = to;
      this.keyText[top] = undefined;
      if (length === 9 || length === 11) name = chunk.toString('latin1', this.keyFrom, to);
    } else {
      this.captureKey(chunk, from, to);
      const truncated = this.keyBytes > KEY_CAPTURE_BYTES;
      const raw = Buffer.concat(this.keyParts).toString('utf8');
      this.keyParts = [];
      name = truncated ? `${raw.slice(0, 40)}…` : decodeKey(raw);
      this.keyText[top] = name;
      this.keyChunk[top] = undefined;
      if (truncated) name = undefined;
    }
    if (name !== undefined && FORBIDDEN_KEYS.has(name)) {
      const field = this.pathOf(this.depth);
      return { field, rule: 'forbiddenKey', message: `${field} is not an accepted field` };
    }
    return undefined;
  }
}

/** A key as JSON.parse will read it (escapes decoded); as written when its escapes are broken, which JSON.parse then refuses. */
function decodeKey(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

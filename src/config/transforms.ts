// Environment variables are strings: these turn the ones that spell a value of the expected type into
// it, and leave anything else as it was so that the validator names the variable and its bad value.
import { Transform } from 'class-transformer';

type Raw = { value: unknown };

const toInt = ({ value }: Raw) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value);
const toBoolean = ({ value }: Raw) =>
  typeof value === 'string' && /^(true|false|1|0|yes|no)$/i.test(value.trim()) ? /^(true|1|yes)$/i.test(value.trim()) : value;
const toNumber = ({ value }: Raw) =>
  typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
/** A JSON text becomes its value; anything unparsable stays a string, which the validator then names. */
const fromJson = ({ value }: Raw) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
};

/** `42` → 42. */
export const ParseInt = () => Transform(toInt);
/** `true|false|1|0|yes|no`, in any case. */
export const ParseBoolean = () => Transform(toBoolean);
/** `0.25`, `1e3` → a number. */
export const ParseNumber = () => Transform(toNumber);
/** A JSON text → its value. */
export const ParseJson = () => Transform(fromJson);

import { z } from 'zod';

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/** The one boolean option parser: a JSON boolean, or true/false, 1/0, yes/no, on/off in any case. */
export const booleanSchema = z.union([z.boolean(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  const s = v.trim().toLowerCase();
  if (TRUE.includes(s)) return true;
  if (FALSE.includes(s)) return false;
  ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected true or false' });
  return z.NEVER;
});

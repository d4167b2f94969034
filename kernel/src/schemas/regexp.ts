// The regular-expression engine of argument schemas (`pattern`, `patternProperties`): RE2's
// algorithm (re2js, a pure-JavaScript port of RE2J), whose matching time is linear in the input for
// every pattern it accepts. V8's backtracking RegExp takes exponential time on patterns such as
// `^(a+)+$`; RE2 refuses what it cannot run in linear time (lookahead, lookbehind, backreferences),
// and so does the kernel, when the panel is created. docs/kernel.md compares the engines.

import { RE2JS } from 're2js';

/** What Ajv needs of a compiled pattern (`code.regExp`); `toString` keys Ajv's cache of them. */
export interface LinearRegExp {
  test(input: string): boolean;
  toString(): string;
}

/** Thrown for a pattern the engine will not run; the message says why. */
export class PatternRefused extends Error {}

/** `\1`…`\9` or `\k<name>` outside a character class: a backreference (no linear-time engine has them). */
function hasBackreference(pattern: string): boolean {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || (next === 'k' && pattern[i + 2] === '<'))) return true;
      i++;
    } else if (char === '[') inClass = true;
    else if (char === ']') inClass = false;
  }
  return false;
}

/**
 * Compiles a schema pattern (ECMA-262 syntax, as JSON Schema specifies, in Unicode mode as Ajv
 * uses it) for the linear-time engine; throws PatternRefused naming the problem.
 */
export function compileLinear(pattern: string): LinearRegExp {
  try {
    // Only compiled, never run: the pattern must be ECMA-262 first (re2js accepts some Perl syntax
    // JavaScript does not, such as `(?i)`, and would give it another meaning).
    new RegExp(pattern, 'u');
  } catch (error) {
    throw new PatternRefused(`not a valid regular expression: ${(error as Error).message}`);
  }
  if (hasBackreference(pattern))
    throw new PatternRefused('backreferences cannot be matched in linear time; they are not supported');
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
  } catch (error) {
    const reason = (error as Error).message.replace(/^error parsing regexp: /, '');
    throw new PatternRefused(
      `the linear-time engine (RE2) cannot run it: ${reason} (lookahead, lookbehind, backreferences and repeat counts above 1000 are not supported)`,
    );
  }
  return { test: (input) => compiled.test(input), toString: () => `/${pattern}/u` };
}

/** Ajv's `code.regExp` option: every pattern Ajv compiles goes through compileLinear. */
export const linearRegExpEngine = Object.assign((pattern: string) => compileLinear(pattern), {
  code: 'compileLinear',
});

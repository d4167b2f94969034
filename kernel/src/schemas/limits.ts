// The bounds of argument validation, in one table (docs/kernel.md, "Argument validation", explains
// each). The time budgets (SCHEMA_TIMEOUT_MS, SCHEMA_WAIT_MS) and queue sizes are configuration.

/** Schema evaluations (weighted) that one argument value may meet; above it a schema is refused. */
export const MAX_EVALUATIONS_PER_VALUE = 1000;
/** Steps the creation-time analysis may take (the schema is the author's, so is its analysis). */
export const MAX_ANALYSIS_STEPS = 2_000_000;
/** `enum` and `const` weigh one more evaluation per this many bytes of their JSON. */
export const ENUM_BYTES_PER_EVALUATION = 128;
/**
 * What `uniqueItems` weighs: writing each item's canonical JSON costs about 8 times a plain
 * evaluation per byte (measured: 67 ns against 4–9 ns of CPU per byte).
 */
export const UNIQUE_ITEMS_WEIGHT = 8;
/**
 * Evaluations per value × bytes of arguments that one validation may do (a request above it is
 * refused with 400 before it runs: its own size, not the machine, decides). Measured at 4–14 ns of
 * CPU per unit (patterns on long strings the slowest), so at most about 120 ms: within
 * SCHEMA_TIMEOUT_MS's default of 200.
 */
export const MAX_VALIDATION_WORK = 8 * 1024 * 1024;
/** Compiled schemas each worker keeps, least recently used out first (Ajv forgets them too). */
export const MAX_COMPILED = 256;
/** Compiling a schema may take this many times SCHEMA_TIMEOUT_MS of CPU. */
export const COMPILE_BUDGET_FACTOR = 10;

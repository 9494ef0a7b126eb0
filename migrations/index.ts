import { Foundation1795253000000 } from './1795253000000-Foundation.js';

// Explicit, ordered list: no globbing, so the same list runs under tsc output, jest and the CLI.
export const migrations = [Foundation1795253000000];

import { boot } from './bootstrap.js';

// HTTP entry: ROLE=all (default: API and job worker in one process) or ROLE=api.
void boot();

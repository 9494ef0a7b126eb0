import { boot } from './bootstrap.js';

// Job worker entry: consumes the queues, serves no HTTP.
void boot('worker');

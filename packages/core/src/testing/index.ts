export * from './arbitraries.js';
export * from './event-arbitraries.js';
export * from './mutations.js';
export * from './schema-values.js';

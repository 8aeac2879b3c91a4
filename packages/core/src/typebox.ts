/**
 * TypeBox as the packages use it at run time, from one module: the build bundles this file's output into one file
 * (scripts/bundle-typebox.mjs), since loading TypeBox's ~700 modules added 0.4 s to the start of every process and
 * worker. Types are imported from 'typebox' itself (they are gone at run time).
 */
export { default as Type } from 'typebox';
export { Compile } from 'typebox/compile';

export { main, COMMANDS, EXIT, processOutput, runCaptured } from './main.js';
export { UsageError, CheckFailed, type Output, type CommandSpec } from './args.js';

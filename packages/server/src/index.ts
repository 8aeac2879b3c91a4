export { buildServer, BODY_LIMIT, type ServerOptions } from './server.js';
export { hotpatchPlugin, type HotpatchPluginOptions } from './plugin.js';
export { HotpatchService, type ServiceLog, type ServiceOptions } from './service.js';
export { DEFAULT_TENANT, Tenants, type Scope, type Tenant } from './tenants.js';
export { anyToken, authenticate, InvalidTokenScopeError, issueToken, revokeToken, UnknownTokenError, type Caller, type TokenScope } from './tokens.js';
export { HttpProblem, PROBLEM_TYPE, problemOf, ProblemSchema, type Problem } from './problem.js';
export { InvalidRequestError, validatorCompiler, serializerCompiler, type TypeBoxTypeProvider } from './validation.js';
export { instructionOf, InstructionSchema, type Instruction } from './instructions.js';
export { observeStore, Changes } from './changes.js';

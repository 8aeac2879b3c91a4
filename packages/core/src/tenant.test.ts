/** Tenants' stream names: made and read by one module, the tenant rule, and every kind's machine under a prefix. */
import { describe, expect, it } from 'vitest';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { deviceIdOf, fromStreamName, localStreamName, tenantOf, toStreamName, TENANT_KINDS } from './stream-name.js';
import { checkTenant, InvalidTenantError, namedTenant, tenantProblem } from './tenant.js';
import { lifecycleFor, streamKindOf } from './streams.js';
import { ringLifecycle } from './ring/lifecycle.js';
import { rolloutLifecycle } from './rollout/lifecycle.js';
import { validateEvent } from './validate.js';
import { InvalidEventError } from './errors.js';
import { idProblem } from './stream-id.js';
import { checkEventSchema } from './validate.js';
import { EventSchema } from './event-schema.js';
import { jsonSchemaText } from './json-schema.js';
import { Compile } from 'typebox/compile';

describe('tenant stream names', () => {
  it('keeps the default tenant unprefixed and puts a named tenant under tenant/<tenant>/', () => {
    expect(toStreamName('device', 'd1')).toBe('device/d1');
    expect(toStreamName('device', 'd1', 'default')).toBe('device/d1');
    expect(toStreamName('rollout', 'HP-2026-02', 'acme')).toBe('tenant/acme/rollout/HP-2026-02');
    expect(fromStreamName('tenant/acme/ring/pilot')).toEqual({ tenant: 'acme', kind: 'ring', id: 'pilot' });
    expect(fromStreamName('device/a/b')).toEqual({ kind: 'device', id: 'a/b' });
    expect(fromStreamName('tenant/acme/device/a/b')).toEqual({ tenant: 'acme', kind: 'device', id: 'a/b' });
    expect(tenantOf('tenant/acme/device/x')).toBe('acme');
    expect(tenantOf('device/x')).toBeUndefined();
    expect(localStreamName('tenant/acme/device/x')).toBe('device/x');
    // deviceIdOf and idOfStream read the default tenant's names only: another tenant's device is not "a device" to them.
    expect(deviceIdOf('tenant/acme/device/x')).toBeUndefined();
  });

  it('reads no stream from a tenant/ name that breaks the tenant rule or names no kind', () => {
    for (const name of ['tenant/acme/seal/log', 'tenant/acme/token/t1', 'tenant/default/device/x', 'tenant//device/x', 'tenant/acme', 'tenant/acme/', 'tenant/acme/device/', 'tenant/acme/thing/x', `tenant/${'t'.repeat(65)}/device/x`, 'tenant/a\u202eb/device/x', 'tenant/acme/tenant/b/device/x']) {
      expect(fromStreamName(name), name).toBeUndefined();
      expect(streamKindOf(name), name).toBeUndefined();
    }
  });

  it('judges a tenant stream with its kind’s machine', () => {
    expect(streamKindOf('tenant/acme/device/x')?.name).toBe('device');
    expect(lifecycleFor('tenant/acme/ring/broad')).toBe(ringLifecycle);
    expect(lifecycleFor('tenant/acme/rollout/r')).toBe(rolloutLifecycle);
  });

  it('the tenant rule: the id rule, no "/", at most 64 characters, "default" reserved; a typed error naming the tenant and why', () => {
    expect(tenantProblem('acme')).toBeUndefined();
    expect(tenantProblem('t'.repeat(64))).toBeUndefined();
    expect(tenantProblem('😀'.repeat(64))).toBeUndefined();
    expect(tenantProblem('t'.repeat(65))).toBe('is 65 characters long');
    expect(tenantProblem('t'.repeat(300))).toBe('is 300 characters long');
    expect(tenantProblem('a/b')).toBe('holds "/" at character 2');
    expect(tenantProblem('')).toBe('is empty');
    expect(tenantProblem('a\nb')).toBe('holds a control character (U+000A) at character 2');
    expect(tenantProblem('default')).toMatch(/names the default tenant/);
    const error = (() => {
      try {
        checkTenant('a/b');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidTenantError);
    expect(error).toMatchObject({ code: 'INVALID_TENANT', tenant: 'a/b', problem: 'holds "/" at character 2' });
    expect((error as Error).message).toBe('tenant "a/b" holds "/" at character 2; a tenant is a non-empty name of at most 64 characters, without "/", a control character, a Unicode bidirectional control or a lone surrogate ("default" names the default tenant)');
    expect(namedTenant(undefined)).toBeUndefined();
    expect(namedTenant('default')).toBeUndefined();
    expect(namedTenant('acme')).toBe('acme');
    expect(() => namedTenant('a/b')).toThrow(InvalidTenantError);
  });

  test.prop([fc.constantFrom(...TENANT_KINDS), fc.string({ minLength: 1, maxLength: 40 }), fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: undefined })], { seed: 22, numRuns: 500 })(
    'toStreamName and fromStreamName are inverses for every valid tenant and id',
    (kind, id, tenant) => {
      fc.pre(idProblem(id) === undefined && (tenant === undefined || tenantProblem(tenant) === undefined));
      const name = toStreamName(kind, id, tenant);
      expect(fromStreamName(name)).toEqual(tenant === undefined ? { kind, id } : { tenant, kind, id });
      expect(tenantOf(name)).toBe(tenant);
      expect(localStreamName(name)).toBe(toStreamName(kind, id));
      expect(streamKindOf(name)?.name).toBe(kind);
    },
  );

  it('a timeline line of a tenant stream validates; a bad tenant is named', () => {
    const line = { id: '0193f2a0-0000-7000-8000-000000000001', stream: 'tenant/acme/ring/pilot', version: 1, type: 'RingPaused', time: '2026-03-02T10:00:00.000Z', data: { by: 'tenant', reason: 'freeze' } };
    expect(validateEvent(line).stream).toBe('tenant/acme/ring/pilot');
    const error = (() => {
      try {
        validateEvent({ ...line, stream: 'tenant/default/ring/pilot' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as Error).message).toMatch(/each under "tenant\/<tenant>\/" for a named tenant \(the tenant here is "default", which names the default tenant/);
  });
});

describe('the schemas and the fast path agree on tenant names', () => {
  const published = Compile(JSON.parse(jsonSchemaText(EventSchema, { title: 't', description: 'd' })) as object);
  const piece = fc.constantFrom('a', 'default', '/', '\u202e', '\n', '😀', '\ud800', 'tenant', 'x'.repeat(30));
  test.prop([fc.array(piece, { maxLength: 5 }), fc.constantFrom('device/d', 'ring/pilot', 'rollout/r', 'thing/x', '')], { seed: 2202, numRuns: 1000 })(
    'validateEvent, the compiled check and the published JSON Schema accept the same tenant/<tenant>/ names',
    (pieces, rest) => {
      const event = { id: '0193f2a0-0000-7000-8000-000000000001', stream: `tenant/${pieces.join('')}/${rest}`, version: 1, type: 'RingPaused', time: '2026-03-02T10:00:00.000Z', data: { by: 'tenant', reason: 'freeze' } };
      let verdict = true;
      try {
        validateEvent(event);
      } catch {
        verdict = false;
      }
      expect(checkEventSchema(event)).toBe(verdict);
      expect(published.Check(event)).toBe(verdict);
      expect(verdict).toBe(rest === 'ring/pilot' && tenantProblem(pieces.join('')) === undefined);
    },
  );
});

import { describe, expect, it } from 'vitest';
import { validateKeyForm, validatePassword } from '../src/lib/validation';

describe('API key form', () => {
  it('accepts a label, known scopes and an expiry, trimming and sorting', () => {
    const v = validateKeyForm({ label: '  grafana ', scopes: ['operator.write', 'operator.read', 'operator.read'], expiresDays: '30' });
    expect(v.errors).toEqual({});
    expect(v.value).toEqual({ label: 'grafana', scopes: ['operator.read', 'operator.write'], expiresDays: 30 });
  });
  it('blank expiry means never', () => {
    expect(validateKeyForm({ label: 'ci', scopes: ['operator.read'], expiresDays: ' ' }).value?.expiresDays).toBeUndefined();
  });
  it('names each wrong field', () => {
    const v = validateKeyForm({ label: ' ', scopes: [], expiresDays: '0' });
    expect(v.value).toBeUndefined();
    expect(v.errors.label).toMatch(/label/);
    expect(v.errors.scopes).toMatch(/at least one scope/);
    expect(v.errors.expiresDays).toMatch(/1 to 3650/);
  });
  it('rejects unknown scopes and out-of-range or fractional expiry', () => {
    expect(validateKeyForm({ label: 'x', scopes: ['root'], expiresDays: '' }).errors.scopes).toMatch(/Unknown scope root/);
    expect(validateKeyForm({ label: 'x', scopes: ['operator.read'], expiresDays: '3651' }).errors.expiresDays).toBeDefined();
    expect(validateKeyForm({ label: 'x', scopes: ['operator.read'], expiresDays: '1.5' }).errors.expiresDays).toBeDefined();
    expect(validateKeyForm({ label: 'x', scopes: ['operator.read'], expiresDays: 'abc' }).errors.expiresDays).toBeDefined();
  });
});

describe('password rule', () => {
  it('needs at least 12 characters', () => {
    expect(validatePassword('elevenchars', 'elevenchars')).toMatch(/at least 12/);
    expect(validatePassword('twelve chars', 'twelve chars')).toBeNull();
  });
  it('counts characters, not UTF-16 units', () => {
    expect(validatePassword('🔑'.repeat(6), '🔑'.repeat(6))).toMatch(/at least 12/);
  });
  it('needs both entries to match and not be all spaces', () => {
    expect(validatePassword('correct horse battery', 'correct horse batterx')).toMatch(/differ/);
    expect(validatePassword(' '.repeat(12), ' '.repeat(12))).toMatch(/spaces/);
  });
});

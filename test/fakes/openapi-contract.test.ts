import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { loadContract, loadGitHubContract, type OpenApiContract } from './openapi-contract.js';

const codegenSpec = JSON.parse(
  readFileSync(new URL('../fixtures/codegen-openapi3.json', import.meta.url), 'utf8'),
) as object;

describe('openapi contract: Codegen (OpenAPI 3.1)', () => {
  const contract: OpenApiContract = loadContract(codegenSpec);

  it('accepts a valid create-agent-run request and names the operation', () => {
    const check = contract.checkRequest({
      method: 'POST',
      path: '/v1/organizations/7/agent/run',
      body: { prompt: 'do it', repo_id: 3, metadata: { task_id: 't1' }, model: null },
    });
    expect(check.violations).toEqual([]);
    expect(check.pathTemplate).toBe('/v1/organizations/{org_id}/agent/run');
    expect(check.operationId).toEqual(expect.any(String));
  });

  it('prefers literal segments: agent/runs is the list, not agent/run/{id}', () => {
    const list = contract.checkRequest({ method: 'GET', path: '/v1/organizations/7/agent/runs' });
    expect(list.pathTemplate).toBe('/v1/organizations/{org_id}/agent/runs');
    const resume = contract.checkRequest({
      method: 'POST',
      path: '/v1/organizations/7/agent/run/resume',
      body: { agent_run_id: 1, prompt: 'go on' },
    });
    expect(resume.pathTemplate).toBe('/v1/organizations/{org_id}/agent/run/resume');
    expect(resume.violations).toEqual([]);
    const get = contract.checkRequest({ method: 'GET', path: '/v1/organizations/7/agent/run/42' });
    expect(get.pathTemplate).toBe('/v1/organizations/{org_id}/agent/run/{agent_run_id}');
    expect(get.violations).toEqual([]);
  });

  it('flags an unknown path and a wrong method', () => {
    expect(contract.checkRequest({ method: 'GET', path: '/v1/nope' }).violations[0]).toMatch(/no such path/);
    const wrong = contract.checkRequest({ method: 'DELETE', path: '/v1/organizations/7/agent/run/42' });
    expect(wrong.violations[0]).toMatch(/has no delete operation/);
  });

  it('flags a body without the required prompt, a wrong type, and a missing required body', () => {
    const bad = contract.checkRequest({
      method: 'POST',
      path: '/v1/organizations/7/agent/run',
      body: { repo_id: 'x' },
    });
    expect(bad.violations.join('\n')).toMatch(/prompt/);
    expect(bad.violations.join('\n')).toMatch(/repo_id/);
    const none = contract.checkRequest({ method: 'POST', path: '/v1/organizations/7/agent/run' });
    expect(none.violations).toEqual([expect.stringMatching(/required request body is missing/)]);
  });

  it('coerces and checks path and query parameters', () => {
    const ok = contract.checkRequest({
      method: 'GET',
      path: '/v1/organizations/7/agent/runs',
      query: { limit: '100', skip: '0', source_type: 'API', user_id: '12', unknown: 'allowed' },
    });
    expect(ok.violations).toEqual([]);
    const badQuery = contract.checkRequest({
      method: 'GET',
      path: '/v1/organizations/7/agent/runs',
      query: { limit: '500', source_type: 'NOPE' },
    });
    expect(badQuery.violations.some((v) => v.includes('query parameter limit'))).toBe(true);
    expect(badQuery.violations.some((v) => v.includes('query parameter source_type'))).toBe(true);
    const badPath = contract.checkRequest({ method: 'GET', path: '/v1/organizations/abc/agent/run/1' });
    expect(badPath.violations).toEqual([expect.stringMatching(/path parameter org_id/)]);
  });

  it('strips a prefix and checks responses', () => {
    const prefixed = loadContract(codegenSpec, { stripPrefix: '/api' });
    expect(prefixed.checkRequest({ method: 'GET', path: '/api/v1/users/me' }).violations).toEqual([]);
    const template = '/v1/organizations/{org_id}/agent/run/{agent_run_id}';
    expect(contract.checkResponse('GET', template, 200, { id: 1, organization_id: 7, status: null })).toEqual([]);
    expect(contract.checkResponse('GET', template, 200, { id: 'x' }).length).toBeGreaterThan(0);
  });
});

describe('openapi contract: GitHub (OpenAPI 3.0, @octokit/openapi)', () => {
  const contract = loadGitHubContract();

  it('is loaded once per process', () => {
    expect(loadGitHubContract()).toBe(contract);
  });

  it('accepts the requests the PR manager makes', () => {
    const requests = [
      { method: 'GET', path: '/repos/o/r/pulls/12' },
      { method: 'GET', path: '/repos/o/r/pulls', query: { head: 'o:codegen/t1', state: 'all', per_page: '100' } },
      { method: 'POST', path: '/repos/o/r/pulls', body: { title: 't', head: 'codegen/t1', base: 'main', draft: true } },
      { method: 'PATCH', path: '/repos/o/r/pulls/12', body: { body: 'text' } },
      { method: 'POST', path: '/repos/o/r/issues/12/labels', body: { labels: ['codegen'] } },
      { method: 'POST', path: '/repos/o/r/issues/12/assignees', body: { assignees: ['alice'] } },
      { method: 'POST', path: '/repos/o/r/pulls/12/requested_reviewers', body: { reviewers: ['bob'] } },
      { method: 'GET', path: '/repos/o/r/commits/abc123/status' },
      { method: 'POST', path: '/app/installations/9/access_tokens' },
    ];
    for (const req of requests) expect([req.path, contract.checkRequest(req).violations]).toEqual([req.path, []]);
  });

  it('matches multi-segment refs, encoded or not', () => {
    for (const path of ['/repos/o/r/git/ref/heads%2Fcodegen%2Ft1', '/repos/o/r/git/ref/heads/codegen/t1']) {
      const check = contract.checkRequest({ method: 'GET', path });
      expect(check.pathTemplate).toBe('/repos/{owner}/{repo}/git/ref/{ref}');
      expect(check.violations).toEqual([]);
    }
    const status = contract.checkRequest({ method: 'GET', path: '/repos/o/r/commits/heads/main/status' });
    expect(status.pathTemplate).toBe('/repos/{owner}/{repo}/commits/{ref}/status');
  });

  it('flags an unknown path, a wrong method, a bad body and a bad query parameter', () => {
    expect(contract.checkRequest({ method: 'GET', path: '/repos/o/r/pullz' }).violations[0]).toMatch(/no such path/);
    expect(contract.checkRequest({ method: 'PUT', path: '/repos/o/r/pulls/1' }).violations[0]).toMatch(/no put/);
    const body = contract.checkRequest({ method: 'POST', path: '/repos/o/r/pulls', body: { title: 5, head: 'x' } });
    expect(body.violations.join('\n')).toMatch(/body\/title must be string/);
    const labels = contract.checkRequest({ method: 'POST', path: '/repos/o/r/issues/1/labels', body: { labels: [] } });
    expect(labels.violations.length).toBeGreaterThan(0);
    const state = contract.checkRequest({ method: 'GET', path: '/repos/o/r/pulls', query: { state: 'merged' } });
    expect(state.violations.join('\n')).toMatch(/query parameter state/);
    const search = contract.checkRequest({ method: 'GET', path: '/search/issues', query: { per_page: '5' } });
    expect(search.violations).toEqual([expect.stringMatching(/required query parameter q is missing/)]);
    const number = contract.checkRequest({ method: 'GET', path: '/repos/o/r/pulls/abc' });
    expect(number.violations.join('\n')).toMatch(/path parameter pull_number/);
  });

  it('checks responses, with nullable fields', () => {
    const ok = contract.checkResponse('GET', '/repos/{owner}/{repo}/git/ref/{ref}', 200, {
      ref: 'refs/heads/x',
      node_id: 'n',
      url: 'https://api.github.com/repos/o/r/git/refs/heads/x',
      object: { type: 'commit', sha: 'a'.repeat(40), url: 'https://api.github.com/repos/o/r/git/commits/a' },
    });
    expect(ok).toEqual([]);
    expect(
      contract.checkResponse('GET', '/repos/{owner}/{repo}/git/ref/{ref}', 200, { ref: 1 }).length,
    ).toBeGreaterThan(0);
    expect(contract.checkResponse('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', 304, undefined)).toEqual([]);
  });
});

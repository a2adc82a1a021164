import { createTestApp, TestApp } from './helpers/test-app';

describe('OpenAPI docs and health', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  it('serves the OpenAPI document with every inventory route and its schemas', async () => {
    const res = await t.http.get('/docs-json').expect(200);
    const paths = Object.keys(res.body.paths);
    for (const path of [
      '/api/v1/clusters',
      '/api/v1/clusters/{id}',
      '/api/v1/clusters/{id}/inventory',
      '/api/v1/hosts',
      '/api/v1/hosts/{id}',
      '/api/v1/vms',
      '/api/v1/vms/{id}',
      '/api/v1/groups',
      '/api/v1/groups/{id}',
      '/api/v1/rules',
      '/api/v1/rules/{id}',
      '/api/v1/clusters/{id}/connector',
    ]) {
      expect(paths).toContain(path);
    }
    const schemas = res.body.components.schemas;
    expect(Object.keys(schemas.CreateHostDto.properties)).toEqual(
      expect.arrayContaining(['clusterId', 'name', 'cpuCores', 'cpuMhz', 'memoryMib', 'migrationGbps', 'state']),
    );
    expect(schemas.VmView.properties.automation.enum).toEqual(['default', 'manual', 'disabled']);
    expect(schemas.InventorySyncDto.required).toEqual(expect.arrayContaining(['hosts', 'vms']));
    // Credentials are write-only: asked for, never part of an answer.
    expect(schemas.PutConnectorDto.properties.credentials.writeOnly).toBe(true);
    expect(Object.keys(schemas.ConnectorView.properties)).toEqual(
      expect.arrayContaining(['state', 'lastError', 'lastSyncAt', 'hasCredentials']),
    );
    expect(schemas.ConnectorView.properties).not.toHaveProperty('credentials');
  });

  it('serves the Swagger UI at /docs', async () => {
    const res = await t.http.get('/docs').expect(200);
    expect(res.text).toContain('swagger-ui');
  });

  it('reports the database up at /health', async () => {
    const res = await t.http.get('/health').expect(200);
    expect(res.body.info.database.status).toBe('up');
  });

  it('answers unknown routes with a problem+json 404', async () => {
    const res = await t.http.get('/api/v1/nothing-here').expect(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });
});

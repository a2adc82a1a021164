// Serves the web dashboard (static files: HTML, CSS and ES modules, no bundler) at `/`; the API keeps every other path.
import { DynamicModule, Module } from '@nestjs/common';
import { AbstractLoader, ExpressLoader, ServeStaticModule } from '@nestjs/serve-static';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The folder holding index.html. Beside this file in both layouts: `src/dashboard/public` under
 * ts-jest, `dist/src/dashboard/public` once `nest build` has copied the assets. When a build did not
 * copy them, the source folder of the checkout still serves.
 */
export function dashboardRoot(): string {
  const candidates = [join(__dirname, 'public'), resolve(__dirname, '..', '..', '..', 'src', 'dashboard', 'public')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0];
}

function serveDashboard(): DynamicModule {
  const module = ServeStaticModule.forRoot({
    rootPath: dashboardRoot(),
    // Only `/` renders the page, with no catch-all: unknown paths, /api/v1/* above all, fall through to
    // the API's problem+json 404, and errors raised on API paths (a body that is not JSON) keep their
    // status. (`exclude` would not do: its error hook turns any error on an excluded path into a 404.)
    renderPath: '/',
    serveStaticOptions: { index: false, fallthrough: true, redirect: false, maxAge: 0 },
  });
  // The package picks its loader while the module is built; under @nestjs/testing the HTTP adapter does
  // not exist yet then, so it would pick its no-op loader and e2e tests would get no page. We run on Express.
  return { ...module, providers: [...(module.providers ?? []), { provide: AbstractLoader, useClass: ExpressLoader }] };
}

@Module({ imports: [serveDashboard()] })
export class DashboardModule {}

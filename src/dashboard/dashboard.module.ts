// Serves the web dashboard (static files: HTML, CSS and ES modules, no bundler) at `/`; the API keeps every other path.
import { DynamicModule, Injectable, Module } from '@nestjs/common';
import { AbstractHttpAdapter } from '@nestjs/core';
import { AbstractLoader, ServeStaticModule, ServeStaticModuleOptions } from '@nestjs/serve-static';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { existsSync, readdirSync } from 'node:fs';
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

/**
 * Express loader for the dashboard's folder: its files at their names, index.html at the render path.
 * The package's own loader puts express.static in front of every request, so that each API call would
 * first cost a file lookup that finds nothing; this one consults it for the folder's files only.
 */
@Injectable()
export class DashboardLoader extends AbstractLoader {
  register(httpAdapter: AbstractHttpAdapter, _config: unknown, optionsArr: ServeStaticModuleOptions[]): void {
    const app = httpAdapter.getInstance<Express>();
    for (const options of optionsArr) {
      const root = options.rootPath!;
      const files = new Set(existsSync(root) ? readdirSync(root).map((name) => `/${name}`) : []);
      const serve = express.static(root, options.serveStaticOptions);
      app.use((req: Request, res: Response, next: NextFunction) => (files.has(req.path) ? serve(req, res, next) : next()));
      const index = this.getIndexFilePath(root);
      // Without its page (a build that copied no assets), `/` is a 404 like any unknown path.
      app.get(options.renderPath as string, (_req: Request, res: Response, next: NextFunction) =>
        res.sendFile(index, (err) => {
          if (err && !res.headersSent) next();
        }),
      );
    }
  }
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
  // The package picks its loader while the module is built (under @nestjs/testing, before the HTTP
  // adapter exists, its no-op one); we run on Express, with the loader above.
  return { ...module, providers: [...(module.providers ?? []), { provide: AbstractLoader, useClass: DashboardLoader }] };
}

@Module({ imports: [serveDashboard()] })
export class DashboardModule {}

import { readFile } from 'node:fs/promises';
import { besideModule, projectPath } from '../core/projectPath.js';

/** A file of the web page, read once at start. */
export interface StaticAsset {
  readonly body: Buffer;
  readonly type: string;
}

/** The web page's files by URL path; nothing else on disk is ever served. */
export async function loadAssets(): Promise<ReadonlyMap<string, StaticAsset>> {
  const files: [string, string, string][] = [
    ['/index.html', besideModule(import.meta.url, 'web/index.html'), 'text/html; charset=utf-8'],
    ['/app.js', besideModule(import.meta.url, 'web/app.js'), 'text/javascript; charset=utf-8'],
    ['/charts.js', besideModule(import.meta.url, 'web/charts.js'), 'text/javascript; charset=utf-8'],
    ['/style.css', besideModule(import.meta.url, 'web/style.css'), 'text/css; charset=utf-8'],
    ['/favicon.svg', besideModule(import.meta.url, 'web/favicon.svg'), 'image/svg+xml'],
    [
      '/vendor/chart.umd.min.js',
      projectPath('node_modules/chart.js/dist/chart.umd.min.js'),
      'text/javascript; charset=utf-8',
    ],
  ];
  const assets = new Map<string, StaticAsset>();
  for (const [route, file, type] of files) assets.set(route, { body: await readFile(file), type });
  return assets;
}

// ASP.NET Core: --urls, ASPNETCORE_URLS / ASPNETCORE_HTTP_PORTS, the launchSettings.json profile the
// C# debugger applies (launchSettingsProfile, or the first "Project" profile), and appsettings.json
// (Kestrel endpoints, `urls`) for the environment the launch selects.
import path from 'node:path';
import { parsePort, portsFromUrlList } from '../addresses';
import { lastFlag } from '../args';
import type { Candidates } from '../candidates';
import { resolvePath, type DetectContext } from '../context';
import { parseJsonc } from '../jsonc';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function detectDotnet(ctx: DetectContext, found: Candidates): Promise<void> {
  const projectDir = dotnetProjectDir(ctx);
  const profile = await launchProfile(ctx, projectDir);
  const profileEnv = isObject(profile?.value.environmentVariables) ? profile.value.environmentVariables : {};
  const environment =
    ctx.env.get('ASPNETCORE_ENVIRONMENT')?.value ??
    ctx.env.get('DOTNET_ENVIRONMENT')?.value ??
    stringOf(profileEnv.ASPNETCORE_ENVIRONMENT) ??
    stringOf(profileEnv.DOTNET_ENVIRONMENT) ??
    'Production';

  // Kestrel endpoints in configuration override every URL given by --urls or the environment
  // ("Overriding address(es)" at start-up), so they come first and turn those into second choices.
  const kestrel = await appSettings(ctx, projectDir, environment);
  for (const e of kestrel.endpoints) found.add(e.port, e.source, 'certain');
  const urlConfidence = kestrel.endpoints.length > 0 ? 'likely' : 'certain';

  const urls = lastFlag(ctx.args, ['--urls']);
  for (const u of portsFromUrlList(urls?.value)) found.add(u.port, '--urls in args', urlConfidence);
  for (const name of ['ASPNETCORE_URLS', 'DOTNET_URLS', 'ASPNETCORE_HTTP_PORTS', 'DOTNET_HTTP_PORTS']) {
    const v = ctx.env.get(name);
    if (!v) continue;
    const ports = name.endsWith('_URLS') ? portsFromUrlList(v.value).map((u) => u.port) : v.value.split(/[;,]/).map(parsePort);
    for (const port of ports) found.add(port, `${v.from} ${name}`, urlConfidence);
  }
  if (profile) {
    const where = `${profile.file} profile ${profile.name}`;
    for (const u of portsFromUrlList(stringOf(profileEnv.ASPNETCORE_URLS))) found.add(u.port, `${where} ASPNETCORE_URLS`, 'likely');
    for (const u of portsFromUrlList(stringOf(profile.value.applicationUrl))) found.add(u.port, `${where} applicationUrl`, 'likely');
  }
  for (const u of kestrel.urls) found.add(u.port, u.source, 'likely');
  found.fallback = { port: 5000, source: 'ASP.NET Core default' };
}

/** Where the project's Properties/ and appsettings files are: the cwd, or the "dotnet" type's project folder. */
function dotnetProjectDir(ctx: DetectContext): string {
  const projectPath = ctx.field('projectPath');
  if (projectPath) return path.posix.dirname(resolvePath(projectPath, ctx.folder));
  return ctx.cwd;
}

async function launchProfile(ctx: DetectContext, projectDir: string): Promise<{ name: string; value: Json; file: string } | undefined> {
  const file = await ctx.read(ctx.field('launchSettingsFilePath') ?? 'Properties/launchSettings.json', projectDir);
  const settings = file && parseJsonc(file.text);
  if (!file || !isObject(settings) || !isObject(settings.profiles)) return undefined;
  const profiles = settings.profiles;
  // "dotnet" configurations name it as launchConfigurationId "TargetFramework=;<profile>"
  const wanted = ctx.field('launchSettingsProfile') ?? ctx.field('launchConfigurationId')?.split(';').at(-1);
  const name = wanted
    ? Object.keys(profiles).find((n) => n === wanted)
    : Object.keys(profiles).find((n) => isObject(profiles[n]) && profiles[n].commandName === 'Project');
  const value = name === undefined ? undefined : profiles[name];
  return name !== undefined && isObject(value) ? { name, value, file: file.shown } : undefined;
}

interface Found {
  port: number;
  source: string;
}

/** Kestrel endpoints and `urls` from appsettings.<environment>.json over appsettings.json. */
async function appSettings(ctx: DetectContext, projectDir: string, environment: string): Promise<{ endpoints: Found[]; urls: Found[] }> {
  for (const name of [`appsettings.${environment}.json`, 'appsettings.json']) {
    const file = await ctx.read(name, projectDir);
    const json = file && parseJsonc(file.text);
    if (!file || !isObject(json)) continue;
    const endpoints: Found[] = [];
    const kestrel = isObject(json.Kestrel) && isObject(json.Kestrel.Endpoints) ? json.Kestrel.Endpoints : {};
    for (const [endpoint, value] of Object.entries(kestrel)) {
      const url = isObject(value) ? stringOf(value.Url) : undefined;
      for (const u of portsFromUrlList(url)) if (!u.https) endpoints.push({ port: u.port, source: `${file.shown} Kestrel endpoint ${endpoint}` });
    }
    const urls = portsFromUrlList(stringOf(json.urls)).map((u) => ({ port: u.port, source: `${file.shown} urls` }));
    if (endpoints.length > 0 || urls.length > 0) return { endpoints, urls };
  }
  return { endpoints: [], urls: [] };
}

function stringOf(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

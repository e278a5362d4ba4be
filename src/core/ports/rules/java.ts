// Java: Spring Boot's server.port (and Quarkus' quarkus.http.port) from the program arguments
// (--server.port=), the JVM arguments (-Dserver.port=), the environment (SERVER_PORT), then the
// application-<profile> and application files in the places Spring Boot looks, profile files first.
import { parsePort } from '../addresses';
import { systemProperty } from '../args';
import { addEnvPort, type Candidates } from '../candidates';
import type { DetectContext } from '../context';
import { resolvePlaceholders, springProperty } from '../spring-config';

interface Framework {
  name: string;
  key: string;
  envName: string;
  defaultPort: number;
}
const SPRING: Framework = { name: 'Spring Boot', key: 'server.port', envName: 'SERVER_PORT', defaultPort: 8080 };
const QUARKUS: Framework = { name: 'Quarkus', key: 'quarkus.http.port', envName: 'QUARKUS_HTTP_PORT', defaultPort: 8080 };

/** Spring Boot's search order, highest first: ./config/, ./, classpath:/config/, classpath:/. */
const LOCATIONS = ['config/', '', 'src/main/resources/config/', 'src/main/resources/'];
const EXTENSIONS = ['properties', 'yml', 'yaml'];

export async function detectJava(ctx: DetectContext, found: Candidates): Promise<void> {
  const quarkus = /quarkus/i.test(ctx.field('mainClass') ?? '') || ctx.vmArgs.some((a) => a.startsWith('-Dquarkus.'));
  const fw = quarkus ? QUARKUS : SPRING;

  const fromArgs = programArgument(ctx.args, fw.key);
  if (fromArgs !== undefined) found.add(parsePort(fromArgs), `--${fw.key} in args`, 'certain');
  const fromVm = systemProperty(ctx.vmArgs, fw.key);
  if (fromVm !== undefined) found.add(parsePort(fromVm), `-D${fw.key} in vmArgs`, 'certain');
  addEnvPort(ctx, found, fw.envName, 'certain');

  const envValue = (name: string): string | undefined => ctx.env.get(name)?.value;
  const profiles = activeProfiles(ctx);
  const bases = [...new Set([ctx.cwd, ...projectDirs(ctx)])];
  let springFiles = false;
  const files: { file: string; profile?: string }[] = [];
  for (const profile of [...profiles].reverse()) for (const ext of EXTENSIONS) files.push({ file: `application-${profile}.${ext}`, profile });
  for (const ext of EXTENSIONS) files.push({ file: `application.${ext}` });
  search: for (const { file } of files) {
    for (const base of bases) {
      for (const location of LOCATIONS) {
        const read = await ctx.read(`${location}${file}`, base);
        if (!read) continue;
        springFiles = true;
        const value = springProperty(read.text, read.shown, fw.key, profiles);
        if (value === undefined) continue;
        found.add(parsePort(resolvePlaceholders(value, envValue)), `${read.shown} ${fw.key}`, 'likely');
        break search;
      }
    }
  }

  if (quarkus || springFiles || /Application$/.test(ctx.field('mainClass') ?? '')) {
    found.fallback = { port: fw.defaultPort, source: `${fw.name} default` };
  }
}

/** Spring reads --name=value program arguments (the last one wins). */
function programArgument(args: string[], name: string): string | undefined {
  let value: string | undefined;
  for (const a of args) if (a.startsWith(`--${name}=`)) value = a.slice(name.length + 3);
  return value;
}

function activeProfiles(ctx: DetectContext): string[] {
  const given =
    programArgument(ctx.args, 'spring.profiles.active') ??
    systemProperty(ctx.vmArgs, 'spring.profiles.active') ??
    ctx.env.get('SPRING_PROFILES_ACTIVE')?.value ??
    '';
  return given.split(',').map((p) => p.trim()).filter((p) => p !== '');
}

/** A multi-module build's module folder, named by projectName, beside the cwd. */
function projectDirs(ctx: DetectContext): string[] {
  const project = ctx.field('projectName');
  return project ? [`${ctx.cwd}/${project}`, `${ctx.folder}/${project}`] : [];
}

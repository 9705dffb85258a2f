/**
 * `meshwarden completion bash|zsh`: a completion script for commands, their options, the
 * fixed values some options take, and file names where a file or path is wanted. The options
 * are each command's own (asked of it as `--help` is), so the script never lists a stale flag.
 */
import { COMMANDS } from './commands.js';
import { CliHelpRequested, CliUsageError, optionValueName, parseCommandLine, type CommandOptions } from './usage.js';

const SHELLS = ['bash', 'zsh'] as const;
type Shell = (typeof SHELLS)[number];

export async function completionCommand(argv: string[]): Promise<number> {
  const { positionals } = parseCommandLine(argv, {}, true);
  const shell = positionals[0];
  if (positionals.length !== 1 || !SHELLS.includes(shell as Shell)) {
    throw new CliUsageError(`say which shell: meshwarden completion bash, or meshwarden completion zsh (not ${JSON.stringify(positionals.join(' '))})`);
  }
  const script = bashFunction(await commandOptions());
  process.stdout.write(shell === 'zsh' ? zshScript(script) : bashScript(script));
  return 0;
}

interface Parsed {
  readonly options: CommandOptions;
  readonly positionals: boolean;
}

/** Each command asked for its help: it answers with the options it parses, before doing anything. */
async function commandOptions(): Promise<Map<string, Parsed>> {
  const found = new Map<string, Parsed>();
  for (const [name, entry] of Object.entries(COMMANDS)) {
    try {
      await (await entry.load())(['--help']);
    } catch (error) {
      if (!(error instanceof CliHelpRequested)) throw error;
      found.set(name, { options: error.options, positionals: error.allowPositionals });
    }
  }
  return found;
}

/** Words of a value placeholder that stand for something to type, not for themselves. */
const PLACEHOLDERS = new Set(['FILE', 'PATH', 'URL', 'N', 'HOST:PORT', 'TD', 'NS', 'TEMPLATE', 'SECONDS', 'NAME,...', 'VALUE', 'DEST', 'KEY=VALUE', 'SPIFFE_ID', 'PCT']);

function bashFunction(commands: Map<string, Parsed>): string {
  const names = [...commands.keys()];
  const cases = [...commands].filter(([name]) => name !== 'completion').map(([name, parsed]) => commandCase(name, parsed));
  return [
    '_meshwarden() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" options="" files=no',
    '  COMPREPLY=()',
    '  if [[ $COMP_CWORD -eq 1 ]]; then',
    `    COMPREPLY=( $(compgen -W "${names.join(' ')} help --help --version" -- "$cur") )`,
    '    return 0',
    '  fi',
    '  case "${COMP_WORDS[1]}" in',
    `    help) [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=( $(compgen -W "${names.join(' ')}" -- "$cur") ); return 0 ;;`,
    '    completion) [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=( $(compgen -W "bash zsh" -- "$cur") ); return 0 ;;',
    ...cases,
    '    *) return 0 ;;',
    '  esac',
    '  if [[ "$cur" == -* ]]; then',
    '    COMPREPLY=( $(compgen -W "$options --help" -- "$cur") )',
    '  elif [[ $files == yes ]]; then',
    '    COMPREPLY=( $(compgen -f -- "$cur") )',
    '  fi',
    '}',
  ].join('\n');
}

/** One command: what follows each of its options, then its options and whether it takes paths. */
function commandCase(name: string, { options, positionals }: Parsed): string {
  const values = Object.entries(options)
    .filter(([, config]) => config.type === 'string')
    .map(([option]) => `        --${option}) ${valueCompletion(option, name)} ;;`);
  return [
    `    ${name})`,
    ...(values.length === 0 ? [] : ['      case "$prev" in', ...values, '      esac']),
    `      options="${Object.keys(options).map((option) => `--${option}`).join(' ')}" files=${positionals ? 'yes' : 'no'} ;;`,
  ].join('\n');
}

/** The fixed values an option takes (ALLOW|DENY, dot|mermaid|svg), file names, or nothing to offer. */
function valueCompletion(option: string, command: string): string {
  const words = optionValueName(option, command).split('|');
  const choices = words.filter((word) => !PLACEHOLDERS.has(word));
  if (choices.length > 0) return `COMPREPLY=( $(compgen -W "${choices.join(' ')}" -- "$cur") ); return 0`;
  if (words.includes('FILE') || words.includes('PATH')) return 'COMPREPLY=( $(compgen -f -- "$cur") ); return 0';
  return 'return 0';
}

function bashScript(body: string): string {
  return [
    '# meshwarden completion for bash. Load it with',
    '#   source <(meshwarden completion bash)',
    '# in ~/.bashrc, or save it as ~/.local/share/bash-completion/completions/meshwarden.',
    body,
    'complete -o filenames -F _meshwarden meshwarden',
    '',
  ].join('\n');
}

/** zsh runs the same function through its bash completion layer, so both shells complete alike. */
function zshScript(body: string): string {
  return [
    '#compdef meshwarden',
    '# meshwarden completion for zsh. Load it with',
    '#   source <(meshwarden completion zsh)',
    '# in ~/.zshrc, after compinit.',
    'autoload -U +X bashcompinit && bashcompinit',
    body,
    'complete -o filenames -F _meshwarden meshwarden',
    '',
  ].join('\n');
}

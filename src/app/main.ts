// Entry point of the `mutt` executable (bundled as dist/mutt.js): the command line, with `serve`
// wired to the daemon.
import { buildProgram, runCli } from '../cli/program.ts';
import { serveCommand } from './serve.ts';

runCli(buildProgram(serveCommand), process.argv);

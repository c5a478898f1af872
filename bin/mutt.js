#!/usr/bin/env node
// Installed entry point: the esbuild bundle holds the whole program.
import '../dist/mutt.js';

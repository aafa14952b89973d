import assert from 'node:assert/strict';
import type { ChainModule, TxDefinition } from './module.js';
import { registerRejections } from './rejections.js';
import type { PayloadParser } from './tx.js';

/**
 * The modules of a chain, checked once at boot: module names (their state namespaces) and tx
 * types are unique, so no two modules can write each other's keys by accident.
 */
export class ModuleRegistry {
  readonly modules: readonly ChainModule[];
  private readonly definitions = new Map<string, TxDefinition<never>>();

  constructor(modules: ChainModule[]) {
    const names = new Set<string>();
    for (const module of modules) {
      assert.ok(/^[a-z][a-z0-9-]*$/.test(module.name), `bad module name ${module.name}`);
      assert.ok(!names.has(module.name), `module ${module.name} is registered twice`);
      names.add(module.name);
      for (const [type, definition] of Object.entries(module.txs)) {
        assert.ok(!this.definitions.has(type), `tx type ${type} is defined twice`);
        this.definitions.set(type, definition);
      }
      if (module.rejections) registerRejections(module.rejections);
    }
    this.modules = modules;
  }

  definition(type: string): TxDefinition<never> | undefined {
    return this.definitions.get(type);
  }

  parserFor = (type: string): PayloadParser | undefined => this.definitions.get(type)?.parse;

  txTypes(): string[] {
    return [...this.definitions.keys()].sort();
  }
}

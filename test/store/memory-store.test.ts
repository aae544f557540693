import { MemoryStore } from '../../src/store/memory-store.js';
import { describeStoreConformance } from './conformance.js';

describeStoreConformance('memory', {
  make: async (now) => {
    const store = new MemoryStore({ now });
    await store.init();
    return { store, cleanup: () => store.close() };
  },
});

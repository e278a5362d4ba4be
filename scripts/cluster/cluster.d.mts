// Types of cluster.mjs for TypeScript callers (the benchmark).
export declare function up(): Promise<{ kubeconfig: string }>;
export declare function down(): Promise<void>;

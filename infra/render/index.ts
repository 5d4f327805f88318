export * from "./k3sConfig";
export * from "./registries";
export * from "./service";
export * from "./size";
export * from "./upgrade";
export { toYaml } from "./yaml";

// The Edgefleet CrossGuard pack: `pulumi preview --policy-pack policies/crossguard
// [--policy-pack-config <stack>.json]`. The rules live in rules/ as pure
// functions; policies.ts wires them; this file only registers the pack.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("edgefleet", { policies });

/** Stack files go through prettier after an edit, so a scripted change leaves `prettier --check` green. */
import { format } from "prettier";

export async function formatYaml(text: string): Promise<string> {
  return format(text, { parser: "yaml" });
}

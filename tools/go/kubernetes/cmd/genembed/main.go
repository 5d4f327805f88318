// Command genembed writes the provider's embedded schema files from the copies
// in the upstream module, stamping the schema with the release version (what
// upstream's generate.go does inside its own checkout).
//
// Usage: genembed <upstream cmd dir> <out dir> <version>
package main

import (
	"encoding/json"
	"log"
	"os"
	"path/filepath"
)

func compact(src, dst string, stamp func(map[string]any)) {
	raw, err := os.ReadFile(src)
	if err != nil {
		log.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		log.Fatalf("%s: %v", src, err)
	}
	if stamp != nil {
		stamp(doc)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		log.Fatal(err)
	}
}

func main() {
	if len(os.Args) != 4 {
		log.Fatal("usage: genembed <upstream cmd dir> <out dir> <version>")
	}
	in, out, version := os.Args[1], os.Args[2], os.Args[3]
	compact(filepath.Join(in, "schema.json"), filepath.Join(out, "schema-embed.json"),
		func(d map[string]any) { d["version"] = version })
	compact(filepath.Join(in, "terraform-mapping.json"), filepath.Join(out, "terraform-mapping-embed.json"), nil)
}

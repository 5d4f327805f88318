/**
 * sites[i].backup and edgefleet:backupS3: what validate() takes, what it
 * refuses (key path and fix), and what the cluster is then given.
 */
import { etcdSnapshotArgs } from "../../../config/hostLayer";
import { validate } from "../../../config/validate";
import { SECRET_KEYS, problemsOf, validConfig } from "./helpers";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const S3 = {
  endpoint: "minio.cn-east.example:9000",
  bucket: "edge-snapshots",
  accessKey: "edgefleet-snapshots",
  secretKey: "not-a-real-secret",
};
const withSecretS3 = new Set([...SECRET_KEYS, "edgefleet:backupS3"]);

function cfg(edit: (c: Json) => void): Json {
  const c = validConfig() as Json;
  edit(c);
  return c;
}

describe("etcd snapshot settings", () => {
  it("takes K3s's defaults on an embedded-etcd site and derives the S3 folder from region and site", () => {
    const spec = validate(
      "s",
      cfg((c) => {
        c["edgefleet:sites"][0].backup = { s3: true };
        c["edgefleet:backupS3"] = S3;
      }),
      withSecretS3,
    );
    expect(spec.sites[0].backup).toEqual({
      schedule: "0 */12 * * *",
      retention: 5,
      compress: false,
      s3: { folder: "cn-east/hub-a" },
    });
    expect(spec.sites[1].backup).toBeUndefined();
    expect(etcdSnapshotArgs(spec, spec.sites[0])).toEqual({
      etcdSnapshots: {
        scheduleCron: "0 */12 * * *",
        retention: 5,
        s3: { endpoint: S3.endpoint, bucket: S3.bucket, folder: "cn-east/hub-a" },
      },
      s3Credentials: { accessKey: S3.accessKey, secretKey: S3.secretKey },
    });
    expect(etcdSnapshotArgs(spec, spec.sites[1])).toEqual({});
  });

  it("keeps local snapshots only without backup.s3, even with a stack S3 target", () => {
    const spec = validate(
      "s",
      cfg((c) => {
        c["edgefleet:sites"][0].backup = { schedule: "@every 6h", retention: 10, compress: true };
        c["edgefleet:backupS3"] = S3;
      }),
      withSecretS3,
    );
    expect(etcdSnapshotArgs(spec, spec.sites[0])).toEqual({
      etcdSnapshots: { scheduleCron: "@every 6h", retention: 10, compress: true },
    });
  });

  it("refuses backup on a one-server (SQLite) site, with the fix", () => {
    expect(problemsOf(cfg((c) => (c["edgefleet:sites"][1].backup = {})))).toEqual([
      expect.stringMatching(
        /^edgefleet:sites\[1\]\.backup: site hub-b has one server, which keeps the cluster's state in SQLite.*\| remove backup from the site and back up .*state\.db/,
      ),
    ]);
  });

  it("refuses backup on an upstream site", () => {
    const c = cfg((c) => {
      c["edgefleet:sites"][1].distribution = "upstream";
      c["edgefleet:sites"][1].backup = {};
    });
    expect(problemsOf(c).filter((p) => p.startsWith("edgefleet:sites[1].backup"))).toEqual([
      expect.stringMatching(/runs the upstream control plane.*\| remove backup from the site/),
    ]);
  });

  it("refuses a schedule K3s cannot parse and a retention below 1, at their keys", () => {
    const c = cfg((c) => (c["edgefleet:sites"][0].backup = { schedule: "every night", retention: 0 }));
    expect(problemsOf(c)).toEqual([
      expect.stringMatching(
        /^edgefleet:sites\[0\]\.backup\.schedule: "every night" has 2 fields.*\| write a cron schedule/,
      ),
      expect.stringMatching(
        /^edgefleet:sites\[0\]\.backup\.retention: 0 keeps no snapshot \| set retention to 1 or more/,
      ),
    ]);
  });

  it("refuses backup.s3 without a stack S3 target", () => {
    expect(problemsOf(cfg((c) => (c["edgefleet:sites"][0].backup = { s3: true })))).toEqual([
      expect.stringMatching(
        /^edgefleet:sites\[0\]\.backup\.s3: site hub-a uploads .* no edgefleet:backupS3 \| add edgefleet:backupS3/,
      ),
    ]);
  });

  it("refuses S3 credentials that are not a Pulumi secret", () => {
    const c = cfg((c) => {
      c["edgefleet:sites"][0].backup = { s3: true };
      c["edgefleet:backupS3"] = S3;
    });
    expect(problemsOf(c)).toEqual([
      expect.stringMatching(
        /^edgefleet:backupS3\.secretKey: the S3 credentials .* plain text .*\| .*pulumi config set --secret --path 'edgefleet:backupS3\.secretKey'/,
      ),
    ]);
  });

  it("refuses an endpoint written as a URL, and a missing secret key with the secret-setting fix", () => {
    const c = cfg((c) => (c["edgefleet:backupS3"] = { ...S3, endpoint: "https://minio:9000", secretKey: undefined }));
    expect(problemsOf(c, withSecretS3)).toEqual([
      expect.stringMatching(
        /^edgefleet:backupS3\.endpoint: "https:\/\/minio:9000" is not an S3 endpoint \| give host\[:port\] without a scheme/,
      ),
      expect.stringMatching(
        /^edgefleet:backupS3\.secretKey: is missing \| set it as a secret, never in the stack file/,
      ),
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { UPLOAD_BYTES, answerCounter, loadRequests } from "../../bench/load";

const target = { url: "https://10.200.1.2/", site: "app.pipeline.test", rate: 200 };

describe("loadRequests (what each connection of the load sends in turn)", () => {
  it("is GET of the target's path alone by default", () => {
    expect(loadRequests(target).map((r) => [r.method, r.path])).toEqual([["GET", "/"]]);
    expect(loadRequests({ ...target, url: "http://10.200.1.2:3000/health" })[0]?.path).toBe("/health");
  });

  it("adds POST /upload with UPLOAD_BYTES of JSON when the target asks for POST", () => {
    const requests = loadRequests({ ...target, post: true });
    expect(requests.map((r) => [r.method, r.path])).toEqual([
      ["GET", "/"],
      ["POST", "/upload"],
    ]);
    const body = requests[1]?.body;
    expect(typeof body).toBe("string");
    expect(Buffer.byteLength(String(body))).toBe(UPLOAD_BYTES);
    expect(() => JSON.parse(String(body)) as unknown).not.toThrow();
    expect(requests[1]?.headers).toEqual({ "content-type": "application/json" });
  });

  it("hands every answer to onAnswer with its method", () => {
    const seen: string[] = [];
    const requests = loadRequests({ ...target, post: true }, (method, status, body) =>
      seen.push(`${method} ${status} ${body}`),
    );
    for (const request of requests) {
      const onResponse = request.onResponse;
      if (typeof onResponse !== "function") throw new Error("no onResponse");
      onResponse(200, "b", {}, {});
    }
    expect(seen).toEqual(["GET 200 b", "POST 200 b"]);
    expect(loadRequests(target).every((r) => r.onResponse === undefined)).toBe(true);
  });
});

describe("answerCounter (what LoadCount says about the answers)", () => {
  it("counts answers and non-2xx per method, and 200 answers to GET per release", () => {
    const counter = answerCounter();
    counter.onAnswer("GET", 200, '{"build":"a"}');
    counter.onAnswer("GET", 200, '{"build":"a"}');
    counter.onAnswer("GET", 200, '{"build":"b"}');
    counter.onAnswer("GET", 502, '{"build":"c"}');
    counter.onAnswer("POST", 200, '{"bytes":1024}');
    counter.onAnswer("POST", 503, "");
    expect(counter.answers).toEqual({ GET: { received: 4, non2xx: 1 }, POST: { received: 2, non2xx: 1 } });
    expect(counter.builds).toEqual({ a: 2, b: 1 });
  });
});

package dev.vigil.neo4j;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.neo4j.graphdb.Label;
import org.neo4j.graphdb.Node;
import org.neo4j.graphdb.Relationship;
import org.neo4j.graphdb.RelationshipType;
import org.neo4j.graphdb.ResourceIterator;
import org.neo4j.graphdb.Transaction;
import org.neo4j.procedure.Context;
import org.neo4j.procedure.Description;
import org.neo4j.procedure.Mode;
import org.neo4j.procedure.Name;
import org.neo4j.procedure.Procedure;

/**
 * Vigil's bulk ingestion as server-side procedures: the same writes as graph/ingest.ts's Cypher
 * (MERGE_WALLETS, CREATE_EDGES, MERGE_EDGES), done through the kernel's core API. Cypher's
 * per-row cost caps a batch write near 20k rows/s on two cores (docs/benchmarks.md); these skip
 * the query runtime and do index seeks and record writes directly.
 *
 * <p>They decide nothing the Cypher path does not: a relationship id already stored between
 * other wallets, or an endpoint that is not stored, is reported back (conflicts, missing) with
 * nothing else changed by the caller's choice: graph/ingest.ts then rolls the transaction back
 * and lets its Cypher MERGE give the precise error. Two writers creating the same new wallet
 * fail one of them on the uniqueness constraint at commit; the caller retries with Cypher MERGE.
 *
 * <p>Loaded by DevServer at start, and from the plugins folder of a stock Neo4j (docker-compose).
 */
public final class IngestProcedures {
  static final Label WALLET = Label.label("Wallet");
  static final Label CONTRACT = Label.label("Contract");

  @Context public Transaction tx;

  public static final class WalletResult {
    public long written;
    public long created;

    WalletResult(long written, long created) {
      this.written = written;
      this.created = created;
    }
  }

  public static final class EdgeResult {
    public long created;
    public long widened;
    public long missing;
    public long conflicts;

    EdgeResult(long created, long widened, long missing, long conflicts) {
      this.created = created;
      this.widened = widened;
      this.missing = missing;
      this.conflicts = conflicts;
    }
  }

  @Procedure(name = "vigil.ingest.wallets", mode = Mode.WRITE)
  @Description(
      "vigil.ingest.wallets(chain, rows): merges wallets by (chain, address); rows are"
          + " {address, first, last, isHotkey, isContract}; widens first/last seen blocks.")
  public Stream<WalletResult> wallets(
      @Name("chain") String chain, @Name("rows") List<Map<String, Object>> rows) {
    long created = 0;
    for (Map<String, Object> row : rows) {
      String address = (String) row.get("address");
      Long first = (Long) row.get("first");
      Long last = (Long) row.get("last");
      boolean hotkey = Boolean.TRUE.equals(row.get("isHotkey"));
      boolean contract = Boolean.TRUE.equals(row.get("isContract"));
      Node w = findWallet(chain, address);
      if (w == null) {
        w = tx.createNode(WALLET);
        w.setProperty("chain", chain);
        w.setProperty("address", address);
        if (first != null) w.setProperty("firstSeenBlock", first);
        if (last != null) w.setProperty("lastSeenBlock", last);
        w.setProperty("isHotkey", hotkey);
        if (contract) w.addLabel(CONTRACT);
        created++;
        continue;
      }
      // Read-modify-write under the node's lock, so concurrent jobs only ever widen the range.
      tx.acquireWriteLock(w);
      Object storedFirst = w.getProperty("firstSeenBlock", null);
      if (first != null && (storedFirst == null || first < (Long) storedFirst)) {
        w.setProperty("firstSeenBlock", first);
      }
      Object storedLast = w.getProperty("lastSeenBlock", null);
      if (last != null && (storedLast == null || last > (Long) storedLast)) {
        w.setProperty("lastSeenBlock", last);
      }
      if (hotkey && !Boolean.TRUE.equals(w.getProperty("isHotkey", false))) {
        w.setProperty("isHotkey", true);
      }
      if (contract && !w.hasLabel(CONTRACT)) w.addLabel(CONTRACT);
    }
    return Stream.of(new WalletResult(rows.size(), created));
  }

  @Procedure(name = "vigil.ingest.relationships", mode = Mode.WRITE)
  @Description(
      "vigil.ingest.relationships(type, chain, rows, provenance): creates each relationship not"
          + " stored yet (rows are {id, from, to, props}) and widens the provenance (miner,"
          + " validator, acceptedAt) of the stored ones.")
  public Stream<EdgeResult> relationships(
      @Name("type") String type,
      @Name("chain") String chain,
      @Name("rows") List<Map<String, Object>> rows,
      @Name("provenance") Map<String, Object> provenance) {
    RelationshipType relType = RelationshipType.withName(type);
    String miner = (String) provenance.get("miner");
    String validator = (String) provenance.get("validator");
    String acceptedAt = (String) provenance.get("acceptedAt");
    long created = 0, widened = 0, missing = 0, conflicts = 0;
    for (Map<String, Object> row : rows) {
      String id = (String) row.get("id");
      Node a = findWallet(chain, (String) row.get("from"));
      Node b = findWallet(chain, (String) row.get("to"));
      if (a == null || b == null) {
        missing++;
        continue;
      }
      Relationship stored = tx.findRelationship(relType, "id", id);
      if (stored == null) {
        Relationship r = a.createRelationshipTo(b, relType);
        @SuppressWarnings("unchecked")
        Map<String, Object> props = (Map<String, Object>) row.get("props");
        for (Map.Entry<String, Object> p : props.entrySet()) r.setProperty(p.getKey(), p.getValue());
        r.setProperty("id", id);
        r.setProperty("miners", new String[] {miner});
        r.setProperty("validators", new String[] {validator});
        r.setProperty("firstAcceptedAt", acceptedAt);
        r.setProperty("lastAcceptedAt", acceptedAt);
        created++;
        continue;
      }
      if (!stored.getStartNode().equals(a) || !stored.getEndNode().equals(b)) {
        conflicts++;
        continue;
      }
      tx.acquireWriteLock(stored);
      widen(stored, "miners", miner);
      widen(stored, "validators", validator);
      String last = (String) stored.getProperty("lastAcceptedAt", null);
      if (last == null || acceptedAt.compareTo(last) > 0) stored.setProperty("lastAcceptedAt", acceptedAt);
      widened++;
    }
    return Stream.of(new EdgeResult(created, widened, missing, conflicts));
  }

  private Node findWallet(String chain, String address) {
    try (ResourceIterator<Node> found = tx.findNodes(WALLET, "chain", chain, "address", address)) {
      return found.hasNext() ? found.next() : null;
    }
  }

  private static void widen(Relationship r, String key, String value) {
    String[] current = (String[]) r.getProperty(key, new String[0]);
    for (String v : current) if (v.equals(value)) return;
    String[] next = java.util.Arrays.copyOf(current, current.length + 1);
    next[current.length] = value;
    r.setProperty(key, next);
  }
}

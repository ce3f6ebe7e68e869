package dev.vigil.neo4j;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;
import org.neo4j.server.configuration.ServerSettings;

/**
 * Vigil's local Neo4j server: the real Neo4j 5.26 Community engine (embedded DBMS) in its own JVM,
 * with Bolt, the HTTP server and Neo4j Browser at /browser/, on loopback.
 *
 * <pre>
 * java -Xmx1g -cp 'target/classes:target/lib/*' dev.vigil.neo4j.DevServer \
 *     --home .vigil/neo4j --bolt-port 7687 --http-port 7474 --pagecache 512m
 * </pre>
 *
 * Auth is off unless NEO4J_PASSWORD is set (then user neo4j gets that password). Prints one line
 * {@code VIGIL_NEO4J_READY bolt=... http=...} on stdout once Bolt and HTTP accept connections.
 * SIGTERM/SIGINT shut the DBMS down cleanly, so the next start needs no recovery.
 *
 * Exit codes: 0 clean stop, 2 bad arguments, 3 a port is in use, 4 the store is locked by another
 * process, 1 any other start failure.
 */
public final class DevServer {
  static final int EXIT_USAGE = 2;
  static final int EXIT_PORT_IN_USE = 3;
  static final int EXIT_STORE_LOCKED = 4;

  private static final String USAGE =
      String.join(
          "\n",
          "usage: DevServer [--home DIR] [--bolt-port N] [--http-port N] [--listen ADDR]",
          "                 [--pagecache SIZE] [--tx-memory SIZE] [--no-http] [--log-level LEVEL]",
          "                 [--exit-on-stdin-close] [--browser-post-connect-cmd CMD]",
          "  --home DIR              Neo4j home: data/, logs/ live here (default .vigil/neo4j)",
          "  --bolt-port N           Bolt port (default 7687)",
          "  --http-port N           HTTP port for Neo4j Browser and the HTTP API (default 7474)",
          "  --listen ADDR           listen address (default 127.0.0.1)",
          "  --pagecache SIZE        page cache size, e.g. 512m, 2g (default 512m)",
          "  --tx-memory SIZE        max memory of all transactions, e.g. 512m (default: Neo4j's)",
          "  --no-http               do not start the HTTP server (no Browser)",
          "  --log-level LEVEL       DEBUG, INFO, WARN, ERROR (default INFO)",
          "  --exit-on-stdin-close   shut down when stdin closes (the parent process died)",
          "  --browser-post-connect-cmd CMD",
          "                          what Neo4j Browser runs on connect (browser.post_connect_cmd),",
          "                          e.g. style {...}: Vigil's captions and colours",
          "environment: NEO4J_PASSWORD  enables auth; user neo4j gets this password (8+ chars)");

  private DevServer() {}

  static final class Options {
    Path home = Path.of(".vigil/neo4j");
    int boltPort = 7687;
    int httpPort = 7474;
    String listen = "127.0.0.1";
    String pagecache = "512m";
    String txMemory = null;
    boolean http = true;
    boolean exitOnStdinClose = false;
    Level logLevel = Level.INFO;
    String browserPostConnectCmd = null;
  }

  public static void main(String[] args) {
    Options o;
    try {
      o = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(EXIT_USAGE);
      return;
    }
    System.exit(run(o));
  }

  static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String v = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        v = a.substring(eq + 1);
        a = a.substring(0, eq);
      }
      switch (a) {
        case "-h", "--help" -> {
          System.out.println(USAGE);
          System.exit(0);
        }
        case "--no-http" -> o.http = false;
        case "--exit-on-stdin-close" -> o.exitOnStdinClose = true;
        case "--home", "--bolt-port", "--http-port", "--listen", "--pagecache", "--tx-memory", "--log-level",
            "--browser-post-connect-cmd" -> {
          if (v == null) {
            if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
            v = args[++i];
          }
          switch (a) {
            case "--home" -> o.home = Path.of(v);
            case "--bolt-port" -> o.boltPort = port(a, v);
            case "--http-port" -> o.httpPort = port(a, v);
            case "--listen" -> o.listen = v;
            case "--pagecache" -> o.pagecache = size(a, v);
            case "--tx-memory" -> o.txMemory = size(a, v);
            case "--browser-post-connect-cmd" -> o.browserPostConnectCmd = v;
            case "--log-level" -> {
              try {
                o.logLevel = Level.valueOf(v.toUpperCase(Locale.ROOT));
              } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--log-level: unknown level " + v);
              }
            }
            default -> throw new IllegalStateException(a);
          }
        }
        default -> throw new IllegalArgumentException("unknown argument " + a);
      }
    }
    if (o.http && o.httpPort == o.boltPort) {
      throw new IllegalArgumentException("--bolt-port and --http-port must differ");
    }
    return o;
  }

  private static int port(String name, String v) {
    try {
      int p = Integer.parseInt(v);
      if (p < 1 || p > 65535) throw new NumberFormatException();
      return p;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": not a port number: " + v);
    }
  }

  private static String size(String name, String v) {
    if (!v.matches("(?i)\\d+[kmg]?")) {
      throw new IllegalArgumentException(name + ": not a size like 512m or 2g: " + v);
    }
    return v.toLowerCase(Locale.ROOT);
  }

  static int run(Options o) {
    Path home = o.home.toAbsolutePath().normalize();
    try {
      Files.createDirectories(home);
    } catch (IOException e) {
      System.err.println("VIGIL_NEO4J_ERROR cannot create home directory " + home + ": " + e.getMessage());
      return 1;
    }

    // One process per home directory. Neo4j locks its store too, but only after it has bound the
    // ports; this lock gives a clear message first, and is released by the OS if we die.
    FileChannel lockChannel;
    FileLock lock;
    try {
      lockChannel =
          FileChannel.open(home.resolve("vigil-server.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      lock = lockChannel.tryLock();
    } catch (IOException | OverlappingFileLockException e) {
      lock = null;
      lockChannel = null;
    }
    if (lock == null) {
      System.err.println(
          "VIGIL_NEO4J_ERROR store locked: another Neo4j process is using " + home
              + " (stop it first, e.g. kill the pid in " + home.resolve("neo4j.pid") + ")");
      return EXIT_STORE_LOCKED;
    }

    InetAddress listenAddr;
    try {
      listenAddr = InetAddress.getByName(o.listen);
    } catch (IOException e) {
      System.err.println("VIGIL_NEO4J_ERROR bad listen address " + o.listen + ": " + e.getMessage());
      return EXIT_USAGE;
    }
    if (!portFree(listenAddr, o.boltPort)) {
      System.err.println("VIGIL_NEO4J_ERROR port in use: bolt " + o.listen + ":" + o.boltPort
          + " is already taken by another process (pick another with --bolt-port)");
      return EXIT_PORT_IN_USE;
    }
    if (o.http && !portFree(listenAddr, o.httpPort)) {
      System.err.println("VIGIL_NEO4J_ERROR port in use: http " + o.listen + ":" + o.httpPort
          + " is already taken by another process (pick another with --http-port)");
      return EXIT_PORT_IN_USE;
    }

    String password = System.getenv("NEO4J_PASSWORD");
    boolean auth = password != null && !password.isEmpty();
    if (auth && password.length() < 8) {
      System.err.println("VIGIL_NEO4J_ERROR NEO4J_PASSWORD must have at least 8 characters");
      return EXIT_USAGE;
    }

    Log4jLogProvider userLog = new Log4jLogProvider(System.out, o.logLevel);
    DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home)
        .setUserLogProvider(userLog)
        .setConfig(BoltConnector.enabled, true)
        .setConfig(BoltConnector.listen_address, new SocketAddress(o.listen, o.boltPort))
        .setConfig(BoltConnector.advertised_address, new SocketAddress(o.listen, o.boltPort))
        .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
        .setConfig(HttpConnector.enabled, o.http)
        .setConfig(HttpConnector.listen_address, new SocketAddress(o.listen, o.httpPort))
        .setConfig(HttpConnector.advertised_address, new SocketAddress(o.listen, o.httpPort))
        .setConfig(GraphDatabaseSettings.auth_enabled, auth)
        .setConfig(GraphDatabaseSettings.pagecache_memory, bytes(o.pagecache))
        // No usage reports: this machine (and CI) must not call out.
        // Transaction time-outs are enforced when this monitor runs (default every 2 s): a query
        // with a 1 s time-out could run for 3. Vigil sets per-query time-outs on every search.
        .setConfig(GraphDatabaseSettings.transaction_monitor_check_interval, Duration.ofMillis(100))
        .setConfig(GraphDatabaseSettings.udc_enabled, false)
        .setConfig(GraphDatabaseInternalSettings.udc_network_enabled, false)
        // Nor does Neo4j Browser (it would load product-usage scripts from the internet).
        .setConfig(ServerSettings.allow_telemetry, false)
        // Netty waits a 5 s "quiet period" twice (boss and worker loops) after the databases have
        // already checkpointed and closed: stop takes ~10 s with it, under 1 s without.
        .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
        .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(5));
    if (o.txMemory != null) {
      builder.setConfig(GraphDatabaseSettings.memory_transaction_global_max_size, bytes(o.txMemory));
    }
    if (o.browserPostConnectCmd != null) {
      builder.setConfig(ServerSettings.browser_post_connect_cmd, o.browserPostConnectCmd);
    }

    long t0 = System.nanoTime();
    DatabaseManagementService dbms;
    try {
      dbms = builder.build();
    } catch (Throwable e) {
      return startFailure(e, o, home);
    }

    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      System.out.println("VIGIL_NEO4J_STOPPING");
      System.out.flush();
      long s0 = System.nanoTime();
      try {
        dbms.shutdown();
      } catch (Throwable e) {
        System.err.println("VIGIL_NEO4J_ERROR shutdown failed: " + e);
      }
      System.out.println("VIGIL_NEO4J_STOPPED stop_ms=" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - s0));
      System.out.flush();
      stopped.countDown();
    }, "vigil-neo4j-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);

    try {
      if (auth) setPassword(dbms, password);
    } catch (Throwable e) {
      System.err.println("VIGIL_NEO4J_ERROR could not set the password of user neo4j: " + e.getMessage());
      return 1; // the shutdown hook stops the DBMS
    }

    ConnectorPortRegister ports = ((GraphDatabaseAPI) dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME))
        .getDependencyResolver().resolveDependency(ConnectorPortRegister.class);
    var bolt = ports.getLocalAddress(ConnectorType.BOLT);
    var web = ports.getLocalAddress(ConnectorType.HTTP);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    StringBuilder ready = new StringBuilder("VIGIL_NEO4J_READY");
    ready.append(" bolt=bolt://").append(bolt != null ? bolt : o.listen + ":" + o.boltPort);
    if (o.http) ready.append(" http=http://").append(web != null ? web : o.listen + ":" + o.httpPort);
    ready.append(" auth=").append(auth ? "on" : "off");
    ready.append(" pid=").append(ProcessHandle.current().pid());
    ready.append(" start_ms=").append(ms);
    System.out.println(ready);
    System.out.flush();

    if (o.exitOnStdinClose) {
      Thread watcher = new Thread(() -> {
        try {
          InputStream in = System.in;
          byte[] buf = new byte[256];
          while (in.read(buf) >= 0) {
            // keep reading until EOF
          }
        } catch (IOException ignored) {
          // treat as closed
        }
        System.out.println("VIGIL_NEO4J_STDIN_CLOSED parent is gone, shutting down");
        System.exit(0); // runs the shutdown hook
      }, "vigil-neo4j-stdin-watch");
      watcher.setDaemon(true);
      watcher.start();
    }

    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private static void setPassword(DatabaseManagementService dbms, String password) {
    try {
      dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
          "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
    } catch (RuntimeException e) {
      // Neo4j refuses to "change" a password to the one it already has: that is what we want.
      String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      if (!(m.contains("old password") && m.contains("same"))) throw e;
    }
  }

  private static int startFailure(Throwable e, Options o, Path home) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      String cls = c.getClass().getName();
      String m = String.valueOf(c.getMessage());
      if (cls.endsWith("FileLockException") || m.contains("store_lock") || m.contains("database_lock")) {
        System.err.println("VIGIL_NEO4J_ERROR store locked: another process is using the Neo4j store in "
            + home + " (" + m + ")");
        return EXIT_STORE_LOCKED;
      }
      if (c instanceof java.net.BindException || cls.endsWith("PortBindException")
          || m.contains("Address already in use")) {
        System.err.println("VIGIL_NEO4J_ERROR port in use: " + m + " (bolt " + o.boltPort + ", http "
            + o.httpPort + ")");
        return EXIT_PORT_IN_USE;
      }
    }
    System.err.println("VIGIL_NEO4J_ERROR Neo4j failed to start: " + e);
    e.printStackTrace(System.err);
    return 1;
  }

  private static boolean portFree(InetAddress addr, int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true); // same as Netty/Jetty, so TIME_WAIT left by our last run is no conflict
      s.bind(new InetSocketAddress(addr, port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static long bytes(String size) {
    String s = size.toLowerCase(Locale.ROOT);
    long mul = 1;
    char last = s.charAt(s.length() - 1);
    if (last == 'k' || last == 'm' || last == 'g') {
      mul = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : 1L << 30;
      s = s.substring(0, s.length() - 1);
    }
    return Long.parseLong(s) * mul;
  }
}

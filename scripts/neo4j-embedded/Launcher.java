// Runs a Neo4j 5 Community DBMS embedded in this JVM with its Bolt connector
// and Neo4j Browser open on loopback ports, until the process gets SIGTERM/SIGINT.
//
// Started by `scripts/neo4j start` as a Java 17 single-file source program:
//
//   java -cp '<cache>/lib/*' Launcher.java --home DIR --port N [options]
//
// Options (all optional except --home):
//   --home DIR          DBMS home: databases, transaction logs and Neo4j's own
//                       logs go under it (created if missing)
//   --host ADDR         Bolt listen address (default 127.0.0.1)
//   --port N            Bolt port; 0 = let the OS pick (default 0)
//   --http-port N       HTTP port serving Neo4j Browser at /browser/ (on the
//                       --host address); 0 = let the OS pick, off = no HTTP
//                       (default 0)
//   --pagecache SIZE    page cache size, e.g. 512m, 1g (default 512m)
//   --tx-timeout DUR    default transaction timeout, e.g. 300s, 5m, 0 = none
//                       (default 300s)
//   --tx-memory SIZE    most heap one transaction may use, e.g. 1g; 0 = no limit
//                       (default 1g)
//   --tx-memory-total SIZE  most heap all transactions together may use
//                       (default 1536m)
//   --stop-runaways DUR stop the thread of a terminated query that still runs
//                       this long after its termination, e.g. 2s; 0 = never
//                       (default 2s; see RunawayGuard below)
//   --ready-file PATH   once the database answers, write its Bolt URL there
//                       and, on a second line, Neo4j Browser's URL
//   --pid-file PATH     write this JVM's pid there at startup
//   --conf FILE         more settings, neo4j.conf syntax (name=value lines);
//                       the options above win over the same setting there
//
// Authentication is disabled and Bolt runs without TLS: this is a local
// development/test server bound to loopback only. Cypher cannot reach outside
// the database: LOAD CSV from file URLs is off, every outbound address is
// blocked for LOAD CSV (so no URL either), and only the procedures CityKG needs
// may be loaded from plugins. The HTTP server runs the Browser module only
// (its static files and the discovery document at /): no transactional
// endpoint and no Query API, so HTTP runs no Cypher; the Browser runs its
// queries over Bolt like any driver. A --conf file cannot loosen these (see
// docs/security.md).
//
// On stdout it prints "BROWSER http://HOST:PORT/browser/?..." (with HTTP on) and
// then "READY bolt://HOST:PORT" once the default database answers a query, and "STOPPED" after a clean shutdown. The JVM shutdown hook
// (run on SIGTERM, SIGINT and normal exit) shuts the DBMS down, which checkpoints
// the store so a kept data directory (KG_NEO4J_DATA) reopens without recovery.

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import inet.ipaddr.IPAddressString;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.Result;
import org.neo4j.graphdb.Transaction;
import org.neo4j.internal.helpers.HostnamePort;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.server.configuration.ConfigurableServerModules;
import org.neo4j.server.configuration.ServerSettings;

public class Launcher {

    /** Procedures CityKG's code and planners' queries call; kept in step with kg/store/neo4j_cypher.py. */
    static final List<String> PROCEDURE_ALLOWLIST = List.of(
            "db.awaitIndexes", "db.labels", "db.relationshipTypes", "db.propertyKeys", "db.schema.*");

    public static void main(String[] argv) throws Exception {
        Map<String, String> opts = parseArgs(argv);
        if (!opts.containsKey("home")) {
            die("missing --home DIR");
        }
        Path home = Path.of(opts.get("home")).toAbsolutePath();
        String host = opts.getOrDefault("host", "127.0.0.1");
        int port = parseInt(opts.getOrDefault("port", "0"), "--port");
        String httpOpt = opts.getOrDefault("http-port", "0");
        boolean http = !httpOpt.equals("off");
        int httpPort = http ? parseInt(httpOpt, "--http-port") : 0;
        long pageCache = parseBytes(opts.getOrDefault("pagecache", "512m"));
        Duration txTimeout = parseDuration(opts.getOrDefault("tx-timeout", "300s"));
        long txMemory = parseBytes(opts.getOrDefault("tx-memory", "1g"));
        long txMemoryTotal = parseBytes(opts.getOrDefault("tx-memory-total", "1536m"));
        Duration stopRunaways = parseDuration(opts.getOrDefault("stop-runaways", "2s"));
        String readyFile = opts.get("ready-file");
        if (opts.containsKey("pid-file")) {
            writeAtomically(Path.of(opts.get("pid-file")), ProcessHandle.current().pid() + "\n");
        }

        Files.createDirectories(home);
        log("starting Neo4j embedded: home=" + home + " bolt=" + host + ":" + port
                + " http=" + (http ? host + ":" + httpPort : "off")
                + " pagecache=" + pageCache + "B tx-timeout=" + txTimeout
                + " tx-memory=" + txMemory + "B tx-memory-total=" + txMemoryTotal + "B"
                + " java=" + System.getProperty("java.version"));

        long t0 = System.nanoTime();
        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home);
        if (opts.containsKey("conf")) {
            Path conf = Path.of(opts.get("conf")).toAbsolutePath();
            if (!Files.isReadable(conf)) {
                die("--conf: cannot read " + conf);
            }
            builder.loadPropertiesFromFile(conf);
        }
        DatabaseManagementService dbms = builder
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                // what a neo4j:// routing table hands back to drivers
                .setConfig(BoltConnector.advertised_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.default_listen_address, new SocketAddress(host))
                .setConfig(GraphDatabaseSettings.default_advertised_address, new SocketAddress(host))
                // server-side routing would open a second listener (7688); not wanted here
                .setConfig(GraphDatabaseSettings.routing_enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache)
                .setConfig(GraphDatabaseSettings.transaction_timeout, txTimeout)
                // a runaway query fails with a memory error instead of taking the heap from everyone
                .setConfig(GraphDatabaseSettings.memory_transaction_max_size, txMemory)
                .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size, txMemoryTotal)
                // Cypher reads no server file and opens no outbound connection (LOAD CSV)
                .setConfig(GraphDatabaseSettings.allow_file_urls, false)
                .setConfig(GraphDatabaseInternalSettings.cypher_ip_blocklist,
                        List.of(new IPAddressString("0.0.0.0/0"), new IPAddressString("::/0")))
                // plugin procedures and functions: only what CityKG calls (built-ins are not governed in 5.26)
                .setConfig(GraphDatabaseSettings.procedure_allowlist, PROCEDURE_ALLOWLIST)
                // HTTP: Neo4j Browser's files and the discovery document only, on loopback. No
                // transactional endpoint or Query API: HTTP runs no Cypher (the Browser uses Bolt).
                .setConfig(HttpConnector.enabled, http)
                .setConfig(HttpConnector.listen_address, new SocketAddress(host, httpPort))
                .setConfig(HttpConnector.advertised_address, new SocketAddress(host, httpPort))
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(ServerSettings.http_enabled_modules, EnumSet.of(ConfigurableServerModules.BROWSER))
                .setConfig(ServerSettings.allow_telemetry, false)
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                // the stores are checkpointed before Bolt stops; don't linger on the
                // Bolt thread pools at shutdown (defaults to minutes)
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1))
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log("shutdown requested; stopping the DBMS");
            try {
                dbms.shutdown();
                log("DBMS shut down cleanly");
                System.out.println("STOPPED");
                System.out.flush();
            } catch (Throwable t) {
                log("error during shutdown: " + t);
                t.printStackTrace(System.err);
            } finally {
                stopped.countDown();
            }
        }, "citykg-neo4j-shutdown"));

        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        if (!db.isAvailable(TimeUnit.MINUTES.toMillis(5))) {
            log("default database did not become available");
            System.exit(2);
        }
        try (Transaction tx = db.beginTx(); Result r = tx.execute("RETURN 1 AS ok")) {
            r.next();
            tx.commit();
        }

        int boundPort = boundPort(db, ConnectorType.BOLT, port);
        if (boundPort <= 0) {
            log("could not determine the Bolt port (is neo4j-bolt on the classpath?)");
            System.exit(2);
        }
        String browserUrl = null;
        if (http) {
            int boundHttp = boundPort(db, ConnectorType.HTTP, httpPort);
            if (boundHttp <= 0) {
                log("could not determine the HTTP port (are neo4j-server and neo4j-browser on the classpath?)");
                System.exit(2);
            }
            // auth is off: the Browser then connects by itself to the Bolt URL the discovery document names
            browserUrl = "http://" + host + ":" + boundHttp + "/browser/?preselectAuthMethod=NO_AUTH";
        }

        if (!stopRunaways.isZero()) {
            Thread guard = new Thread(new RunawayGuard(db, stopRunaways), "citykg-runaway-guard");
            guard.setDaemon(true);
            guard.start();
        }

        String url = "bolt://" + host + ":" + boundPort;
        if (readyFile != null) {
            writeAtomically(Path.of(readyFile), url + "\n" + (browserUrl == null ? "" : browserUrl + "\n"));
        }
        log(String.format(Locale.ROOT, "Neo4j %s ready in %.1fs",
                neo4jVersion(db), (System.nanoTime() - t0) / 1e9));
        if (browserUrl != null) {
            System.out.println("BROWSER " + browserUrl);
        }
        System.out.println("READY " + url);
        System.out.flush();

        // Keep the JVM alive until a signal runs the shutdown hook.
        stopped.await();
    }

    /**
     * Stops queries that Neo4j has terminated but that keep running.
     *
     * <p>Neo4j 5.26 checks a transaction's termination (its timeout, TERMINATE
     * TRANSACTION, a closed connection) between rows and in kernel reads, never
     * inside one Cypher expression: {@code reduce(s = '', i IN range(1, 2000000) | s + 'x')}
     * or a nested list comprehension runs on for minutes on a core, or fills the
     * heap, after its caller has gone. Once a transaction has shown as
     * terminated for {@code grace}, and its Bolt worker thread is still inside
     * the Cypher runtime's expression or value code (not in the kernel, the
     * page cache or a lock), that thread is stopped with {@link Thread#stop()}:
     * the error unwinds the query, its transaction is rolled back and the
     * worker is replaced; its connection is closed, since the stopped worker
     * cannot answer its client. Thread.stop is deprecated because it can break an
     * object half-way through a change; that is why only a thread in pure
     * expression evaluation of an already-failed read is stopped. Java 20+ has
     * no Thread.stop: there the guard only logs. This is a development and test
     * server; docs/security.md says what a production server has instead.
     */
    static final class RunawayGuard implements Runnable {
        private static final String TERMINATED =
                "SHOW TRANSACTIONS YIELD transactionId, connectionId, status "
                        + "WHERE status STARTS WITH 'Terminated' RETURN transactionId, connectionId";
        private final GraphDatabaseService db;
        private final long graceNanos;
        private final Map<String, Long> terminatedSince = new HashMap<>();

        RunawayGuard(GraphDatabaseService db, Duration grace) {
            this.db = db;
            this.graceNanos = grace.toNanos();
        }

        @Override
        public void run() {
            while (true) {
                try {
                    Thread.sleep(500);
                    sweep();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    log("runaway guard: " + e); // the database may be shutting down; try again
                }
            }
        }

        private void sweep() {
            Map<String, String> connectionOf = new HashMap<>();
            try (Transaction tx = db.beginTx(); Result r = tx.execute(TERMINATED)) {
                r.forEachRemaining(row -> connectionOf.put(
                        String.valueOf(row.get("transactionId")), String.valueOf(row.get("connectionId"))));
            }
            long now = System.nanoTime();
            terminatedSince.keySet().retainAll(connectionOf.keySet());
            for (Map.Entry<String, String> e : connectionOf.entrySet()) {
                long since = terminatedSince.computeIfAbsent(e.getKey(), k -> now);
                if (now - since >= graceNanos && !e.getValue().isEmpty() && stopWorkerOf(e.getKey(), e.getValue())) {
                    // the stopped worker cannot answer its client: close the connection so the client is not left waiting
                    try (Transaction tx = db.beginTx();
                         Result r = tx.execute("CALL dbms.killConnection($id)", Map.of("id", e.getValue()))) {
                        r.forEachRemaining(row -> { });
                    }
                }
            }
        }

        @SuppressWarnings({"deprecation", "removal"})
        private static boolean stopWorkerOf(String transactionId, String connectionId) {
            String marker = "[" + connectionId + " ";
            boolean stopped = false;
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (!t.getName().contains(marker) || !inExpressionCode(t.getStackTrace())) {
                    continue;
                }
                try {
                    t.stop();
                    stopped = true;
                    log("stopped " + t.getName() + ": " + transactionId + " was terminated and still running");
                } catch (UnsupportedOperationException unsupported) {
                    log(transactionId + " was terminated and still runs; this Java cannot stop its thread");
                }
            }
            return stopped;
        }

        /** Whether the innermost Neo4j frame is the Cypher runtime or value code, not the kernel. */
        static boolean inExpressionCode(StackTraceElement[] stack) {
            for (StackTraceElement frame : stack) {
                String cls = frame.getClassName();
                if (cls.startsWith("org.neo4j.")) {
                    return cls.startsWith("org.neo4j.cypher.internal.runtime.") || cls.startsWith("org.neo4j.values.");
                }
            }
            return false;
        }
    }

    /** The port a connector listens on (the one the OS picked for port 0), or {@code fallback}. */
    private static int boundPort(GraphDatabaseService db, ConnectorType connector, int fallback) {
        if (db instanceof GraphDatabaseAPI) {
            HostnamePort address = ((GraphDatabaseAPI) db).getDependencyResolver()
                    .resolveDependency(ConnectorPortRegister.class)
                    .getLocalAddress(connector);
            if (address != null) {
                return address.getPort();
            }
        }
        return fallback;
    }

    private static String neo4jVersion(GraphDatabaseService db) {
        try (Transaction tx = db.beginTx();
             Result r = tx.execute("CALL dbms.components() YIELD versions RETURN versions[0] AS v")) {
            Object v = r.hasNext() ? r.next().get("v") : null;
            tx.commit();
            return String.valueOf(v);
        } catch (RuntimeException e) {
            return "?";
        }
    }

    private static Map<String, String> parseArgs(String[] argv) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) {
                die("unexpected argument: " + a);
            }
            String key = a.substring(2);
            String value;
            int eq = key.indexOf('=');
            if (eq >= 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            } else {
                if (i + 1 >= argv.length) {
                    die("missing value for " + a);
                }
                value = argv[++i];
            }
            switch (key) {
                case "home": case "host": case "port": case "pagecache": case "tx-timeout": case "ready-file": case "pid-file":
                case "conf": case "http-port": case "tx-memory": case "tx-memory-total": case "stop-runaways":
                    opts.put(key, value);
                    break;
                default:
                    die("unknown option --" + key);
            }
        }
        return opts;
    }

    private static int parseInt(String s, String what) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            die(what + ": not a number: " + s);
            return -1;
        }
    }

    /** "512m", "1g", "65536k", "1048576" -> bytes. */
    static long parseBytes(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.endsWith("b")) {
            t = t.substring(0, t.length() - 1);
        }
        long mult = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k': mult = 1L << 10; break;
                case 'm': mult = 1L << 20; break;
                case 'g': mult = 1L << 30; break;
                default: break;
            }
            if (mult != 1) {
                t = t.substring(0, t.length() - 1);
            }
        }
        try {
            return Long.parseLong(t.trim()) * mult;
        } catch (NumberFormatException e) {
            die("expected a size like 512m or 1g, got: " + s);
            return -1;
        }
    }

    /** "300s", "5m", "1h", "250ms", "300" (seconds), "0" -> Duration. */
    static Duration parseDuration(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("h")) {
                return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            return Duration.ofSeconds(Long.parseLong(t));
        } catch (NumberFormatException e) {
            die("--tx-timeout: expected a duration like 300s or 5m, got: " + s);
            return null;
        }
    }

    private static void writeAtomically(Path target, String content) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void log(String msg) {
        System.err.println("[citykg-neo4j] " + msg);
        System.err.flush();
    }

    private static void die(String msg) {
        log("error: " + msg);
        System.exit(64);
    }
}

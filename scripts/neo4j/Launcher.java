import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

/**
 * Runs Neo4j Community embedded, with only a Bolt listener, until it is sent SIGTERM/SIGINT.
 *
 * Usage: java -cp 'lib/*' Launcher.java HOME PORT PASSWORD PAGECACHE
 * PASSWORD "none" disables auth; otherwise the built-in user neo4j gets that password.
 * Prints "READY bolt://127.0.0.1:PORT" once the default database accepts transactions.
 * Exits with status 1 if anything fails on the way, at once with "port PORT is in use" if the
 * port is taken (rather than keep a half-started JVM alive).
 */
public class Launcher {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: Launcher HOME PORT PASSWORD|none PAGECACHE");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        String password = args[2];
        boolean auth = !"none".equals(password);
        checkPortIsFree(port);

        final DatabaseManagementService dbms;
        try {
            dbms = build(home, port, auth, args[3]);
        } catch (RuntimeException e) {
            // Without the exit the server's own threads could keep the JVM alive.
            fail(port, e);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            dbms.shutdown();
            stopped.countDown();
        }, "neo4j-shutdown"));

        try {
            if (auth) {
                setPassword(dbms, password);
            }
            GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
            db.executeTransactionally("RETURN 1");
        } catch (RuntimeException e) {
            fail(port, e);
        }
        System.out.println("READY bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }

    /** Neo4j would only find out after ~15 s of start-up work; a probe finds out at once. */
    private static void checkPortIsFree(int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);  // as Netty binds: connections in TIME_WAIT do not count
            probe.bind(new InetSocketAddress("127.0.0.1", port));
        } catch (IOException e) {
            System.err.println("port " + port + " is in use (" + e.getMessage() + ")");
            System.exit(1);
        }
    }

    private static void fail(int port, RuntimeException e) {
        e.printStackTrace();
        if (mentions(e, "Address already in use")) {
            System.err.println("port " + port + " is in use");
        }
        System.exit(1);
    }

    private static DatabaseManagementService build(Path home, int port, boolean auth,
                                                   String pagecache) {
        return new DatabaseManagementServiceBuilder(home)
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
            .setConfig(HttpConnector.enabled, false)
            .setConfig(GraphDatabaseSettings.auth_enabled, auth)
            .setConfig(GraphDatabaseSettings.pagecache_memory, parseBytes(pagecache))
            .setConfig(GraphDatabaseSettings.transaction_timeout, java.time.Duration.ofMinutes(10))
            // A development server: keep only the transaction logs recovery needs, not two days'
            // worth (a 1M-relationship load writes gigabytes of them).
            .setConfig(GraphDatabaseSettings.keep_logical_logs,
                System.getenv().getOrDefault("NEO4J_LOCAL_TX_LOG_RETENTION", "false"))
            .build();
    }

    private static void setPassword(DatabaseManagementService dbms, String password) {
        // Embedded transactions run with full rights, so the system database accepts this
        // without the interactive "change the default password" step.
        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        try {
            system.executeTransactionally(
                "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                Map.of("password", password));
        } catch (RuntimeException e) {
            // A restart with the password already set: Neo4j refuses "old equals new". Fine.
            if (!mentions(e, "cannot be the same")) {
                throw e;
            }
        }
    }

    /** Does the message of e or of one of its causes contain text? */
    private static boolean mentions(Throwable e, String text) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (String.valueOf(cause.getMessage()).contains(text)) {
                return true;
            }
        }
        return false;
    }

    private static long parseBytes(String text) {
        String t = text.trim().toLowerCase();
        long unit = 1;
        if (t.endsWith("g")) { unit = 1L << 30; t = t.substring(0, t.length() - 1); }
        else if (t.endsWith("m")) { unit = 1L << 20; t = t.substring(0, t.length() - 1); }
        else if (t.endsWith("k")) { unit = 1L << 10; t = t.substring(0, t.length() - 1); }
        return Long.parseLong(t) * unit;
    }
}

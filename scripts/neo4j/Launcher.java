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

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
            .setConfig(HttpConnector.enabled, false)
            .setConfig(GraphDatabaseSettings.auth_enabled, auth)
            .setConfig(GraphDatabaseSettings.pagecache_memory, parseBytes(args[3]))
            .setConfig(GraphDatabaseSettings.transaction_timeout, java.time.Duration.ofMinutes(10))
            // A development server: keep only the transaction logs recovery needs, not two days'
            // worth (a 1M-relationship load writes gigabytes of them).
            .setConfig(GraphDatabaseSettings.keep_logical_logs,
                System.getenv().getOrDefault("NEO4J_LOCAL_TX_LOG_RETENTION", "false"))
            .build();

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
            // Without this the server's own threads keep the JVM alive after a failed start.
            e.printStackTrace();
            System.exit(1);
        }
        System.out.println("READY bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
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
            Throwable cause = e;
            while (cause != null) {
                String message = String.valueOf(cause.getMessage());
                if (message.contains("cannot be the same")) {
                    return;
                }
                cause = cause.getCause();
            }
            throw e;
        }
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

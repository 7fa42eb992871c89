// A one-namenode, one-datanode HDFS for local development and tests, on 127.0.0.1 only.
// The launcher (de_services.hdfs) compiles it once into <cache>/classes/MiniHdfs-<hash> and runs
//   java -cp '<cache>/classes/MiniHdfs-<hash>:<cache>/jars/hdfs/*' MiniHdfs --base DIR --nn-port 29000 \
//        --nn-http-port 29870 --dn-port 29866 --dn-http-port 29864 --dn-ipc-port 29867 --dn-proxy-port 29868
// By hand it also runs as a single source file: java -cp '<cache>/jars/hdfs/*' MiniHdfs.java --base DIR ...
// Prints "MINIHDFS READY hdfs://127.0.0.1:<rpc> http://127.0.0.1:<http>" on stdout (for the log; the
// launcher itself probes the namenode JMX for a live datanode and no safe mode) once the
// datanode has registered and safe mode is off, then runs until SIGTERM (which shuts HDFS down).

import java.io.File;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.protocol.HdfsConstants.SafeModeAction;

public class MiniHdfs {
    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i], args[i + 1]);
        }
        File base = new File(required(opts, "--base")).getAbsoluteFile();
        int nnPort = Integer.parseInt(opts.getOrDefault("--nn-port", "29000"));
        int nnHttpPort = Integer.parseInt(opts.getOrDefault("--nn-http-port", "29870"));
        String host = "127.0.0.1";

        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getPath());
        conf.setBoolean("dfs.webhdfs.enabled", true);
        // Anyone may write anywhere: this is a throwaway development cluster.
        conf.setBoolean("dfs.permissions.enabled", false);
        conf.setInt("dfs.replication", 1);
        conf.set("dfs.namenode.safemode.threshold-pct", "0");
        conf.setInt("dfs.namenode.safemode.extension", 0);
        // Fixed datanode addresses on loopback, so WebHDFS redirects point at 127.0.0.1:<dn-http>.
        conf.set("dfs.datanode.address", host + ":" + opts.getOrDefault("--dn-port", "29866"));
        conf.set("dfs.datanode.http.address", host + ":" + opts.getOrDefault("--dn-http-port", "29864"));
        conf.set("dfs.datanode.ipc.address", host + ":" + opts.getOrDefault("--dn-ipc-port", "29867"));
        // The datanode's Jetty behind its Netty HTTP front would otherwise take a random port.
        conf.set("dfs.datanode.http.internal-proxy.port", opts.getOrDefault("--dn-proxy-port", "29868"));
        conf.set("dfs.datanode.hostname", host);
        conf.setBoolean("dfs.datanode.use.datanode.hostname", false);
        conf.setBoolean("dfs.client.use.datanode.hostname", false);
        conf.set("dfs.namenode.rpc-bind-host", host);
        conf.set("dfs.namenode.http-bind-host", host);
        // Keep a restarted cluster's files: format only a fresh base folder.
        boolean fresh = !new File(base, "name-0-1/current/VERSION").exists();

        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf)
                .nameNodePort(nnPort)
                .nameNodeHttpPort(nnHttpPort)
                .numDataNodes(1)
                .storagesPerDatanode(1)
                .checkDataNodeAddrConfig(true)
                .checkDataNodeHostConfig(true)
                .format(fresh)
                .startupOption(fresh ? null : org.apache.hadoop.hdfs.server.common.HdfsServerConstants.StartupOption.REGULAR)
                .build();
        cluster.waitActive();
        cluster.getFileSystem().setSafeMode(SafeModeAction.SAFEMODE_LEAVE);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            cluster.shutdown();
            stopped.countDown();
        }, "minihdfs-shutdown"));
        System.out.println("MINIHDFS READY hdfs://" + host + ":" + cluster.getNameNodePort()
                + " http://" + host + ":" + nnHttpPort);
        System.out.flush();
        stopped.await();
    }

    private static String required(Map<String, String> opts, String key) {
        String value = opts.get(key);
        if (value == null) {
            System.err.println("MiniHdfs: missing " + key);
            System.exit(2);
        }
        return value;
    }
}

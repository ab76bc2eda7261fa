//! The btleplug adapter against BlueZ's D-Bus API, mocked: a private `dbus-daemon` stands in
//! for the system bus, python-dbusmock's `bluez5` template for `bluetoothd`, extended by
//! `ble_dbusmock/bluez_dongle.py` with the dongle's GATT service, its RX/TX characteristics,
//! the ATT MTU and `ServicesResolved`. The code under test is the one that talks to a real
//! dongle (`lichen::ble::btle`): discover, connect, MTU check, subscribe, write with response,
//! receive a notification — and each adapter error a person can meet.
//!
//! Needs `dbus-daemon` and Debian's `python3-dbusmock` (scripts/test.sh installs both); skips
//! with a message only when `dbus-daemon` is missing.
#![cfg(feature = "ble")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lichen::ble::btle::BtleCentral;
use lichen::ble::link::{self, Central};
use lichen::ble::pairing::Dongles;
use lichen::ble::BleError;

const DONGLE: &str = "AA:BB:CC:DD:EE:01";

struct Bus {
    daemon: Child,
    mock: Option<Child>,
    conf: PathBuf,
    socket: PathBuf,
    python: String,
    _dir: tempfile::TempDir,
}

impl Drop for Bus {
    fn drop(&mut self) {
        if let Some(m) = &mut self.mock {
            let _ = m.kill();
            let _ = m.wait();
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

fn config(socket: &Path, deny_bluez: bool) -> String {
    let deny = if deny_bluez {
        r#"<deny send_destination="org.bluez"/>"#
    } else {
        ""
    };
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
    {deny}
  </policy>
</busconfig>
"#,
        socket.display()
    )
}

fn which(cmd: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(cmd))
            .find(|p| p.is_file())
    })
}

/// A Python that has dbusmock (Debian's package installs it for /usr/bin/python3).
fn python() -> Option<String> {
    ["/usr/bin/python3", "python3"].into_iter().find_map(|p| {
        let ok = Command::new(p)
            .args(["-c", "import dbusmock"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| p.to_string())
    })
}

impl Bus {
    fn start() -> Option<Bus> {
        let daemon = which("dbus-daemon")?;
        let python = python().expect(
            "dbus-daemon is installed but python3-dbusmock is not: apt-get install python3-dbusmock",
        );
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("system_bus_socket");
        let conf = dir.path().join("system.conf");
        std::fs::write(&conf, config(&socket, false)).unwrap();
        let mut child = Command::new(daemon)
            .arg(format!("--config-file={}", conf.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("unix:"), "dbus-daemon said {line:?}");
        // libdbus reads this once per process; this test binary has only this one test.
        std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", line.trim());
        Some(Bus {
            daemon: child,
            mock: None,
            conf,
            socket,
            python,
            _dir: dir,
        })
    }

    fn start_bluez(&mut self) {
        let child = Command::new(&self.python)
            .args(["-m", "dbusmock", "--system", "--template", "bluez5"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        self.mock = Some(child);
    }

    fn helper(&self, args: &[&str]) {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ble_dbusmock/bluez_dongle.py");
        let started = Instant::now();
        loop {
            let out = Command::new(&self.python)
                .arg(&script)
                .args(args)
                .output()
                .unwrap();
            if out.status.success() {
                return;
            }
            // The mock may still be claiming its name.
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "bluez_dongle.py {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Reloads the bus policy, denying (or allowing again) calls to org.bluez.
    fn deny_bluez(&self, deny: bool) {
        std::fs::write(&self.conf, config(&self.socket, deny)).unwrap();
        let ok = Command::new("kill")
            .args(["-HUP", &self.daemon.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

const SCAN: Duration = Duration::from_millis(300);

#[test]
fn btleplug_adapter_against_a_bluez_dbus_mock() {
    let Some(mut bus) = Bus::start() else {
        eprintln!(
            "SKIPPED ble_dbusmock: dbus-daemon is not installed here (apt-get install dbus \
             python3-dbusmock; scripts/test.sh does this in CI)"
        );
        return;
    };
    let rt = rt();
    let scan = |c: &BtleCentral| rt.block_on(c.scan(SCAN));

    // No bluetoothd on the bus.
    let e = scan(&BtleCentral::new()).unwrap_err();
    eprintln!("{e}");
    assert!(matches!(e, BleError::Absent { .. }), "{e:?}");

    // bluetoothd without an adapter.
    bus.start_bluez();
    let started = Instant::now();
    let e = loop {
        let e = scan(&BtleCentral::new()).unwrap_err();
        if !e.to_string().contains("not running") || started.elapsed() > Duration::from_secs(10) {
            break e;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!("{e}");
    assert!(
        matches!(&e, BleError::Absent { detail } if detail.contains("no adapter")),
        "{e:?}"
    );

    // An adapter that is switched off.
    bus.helper(&["adapter", "hci0"]);
    bus.helper(&["power", "hci0", "off"]);
    assert_eq!(scan(&BtleCentral::new()), Err(BleError::Off));
    bus.helper(&["power", "hci0", "on"]);

    // A dongle in range: discover it by its service, pair, connect, exchange packets.
    bus.helper(&["dongle", "hci0", DONGLE, "tinySSB-ee01", "128"]);
    let central = Arc::new(BtleCentral::new());
    let found = scan(&central).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name, "tinySSB-ee01");
    assert_eq!(found[0].rssi, Some(-52));
    assert!(
        found[0].id.ends_with("dev_AA_BB_CC_DD_EE_01"),
        "{}",
        found[0].id
    );

    let dir = tempfile::tempdir().unwrap();
    let dongles = Dongles::new(central.clone(), dir.path());
    let paired = rt.block_on(dongles.pair("tinySSB-ee01", SCAN)).unwrap();
    assert_eq!(paired.transport, "bluetooth");
    assert_eq!(paired.id, found[0].id);

    let mut conn = rt
        .block_on(link::connect(
            central.as_ref(),
            &paired.id,
            &paired.name,
            Duration::from_secs(10),
        ))
        .unwrap();
    assert_eq!(conn.info.mtu, 128);
    assert_eq!(conn.info.name, "tinySSB-ee01");
    let pkt: Vec<u8> = (0..120u8).collect();
    rt.block_on(async {
        conn.sink.write(&pkt).await.unwrap();
        let back = tokio::time::timeout(Duration::from_secs(5), conn.source.recv())
            .await
            .expect("a notification within 5 s")
            .unwrap();
        assert_eq!(back, pkt, "the mock notifies what was written");
        assert_eq!(conn.sink.rssi().await, Some(-52));
        // A packet the MTU cannot carry is refused before it reaches the stack.
        assert!(matches!(
            conn.sink.write(&[0u8; 126]).await,
            Err(lichen::ble::LinkError::TooLong { .. })
        ));
        conn.sink.close().await;
    });

    // A dongle whose link carries 20 bytes per write.
    bus.helper(&["dongle", "hci0", "AA:BB:CC:DD:EE:02", "tinySSB-ee02", "23"]);
    let e = rt.block_on(dongles.pair("tinySSB-ee02", SCAN)).unwrap_err();
    eprintln!("{e}");
    assert!(
        matches!(
            e,
            BleError::MtuTooSmall {
                mtu: 23,
                payload: 20,
                ..
            }
        ),
        "{e:?}"
    );

    // A device named like a dongle without the tinySSB GATT service.
    bus.helper(&[
        "dongle",
        "hci0",
        "AA:BB:CC:DD:EE:03",
        "tinySSB-ee03",
        "128",
        "noservice",
    ]);
    let e = rt.block_on(dongles.pair("tinySSB-ee03", SCAN)).unwrap_err();
    eprintln!("{e}");
    assert!(matches!(e, BleError::ServiceMissing { .. }), "{e:?}");

    // A dongle that is not there.
    let e = rt
        .block_on(link::connect(
            central.as_ref(),
            "hci0/dev_AA_BB_CC_DD_EE_99",
            "tinySSB-ee99",
            Duration::from_secs(20),
        ))
        .unwrap_err();
    eprintln!("{e}");
    assert!(matches!(e, BleError::DeviceGone { .. }), "{e:?}");

    // The system refuses access to BlueZ.
    bus.deny_bluez(true);
    let e = scan(&BtleCentral::new()).unwrap_err();
    eprintln!("{e}");
    assert!(matches!(e, BleError::PermissionDenied { .. }), "{e:?}");
    bus.deny_bluez(false);
    assert_eq!(scan(&BtleCentral::new()).unwrap().len(), 3);
}

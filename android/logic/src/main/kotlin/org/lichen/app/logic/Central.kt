package org.lichen.app.logic

import java.util.UUID
import java.util.concurrent.ConcurrentHashMap
import org.lichen.AdapterState
import org.lichen.BleCentral
import org.lichen.CallbackException
import org.lichen.GattSink
import org.lichen.OpenException
import org.lichen.ScanSink

/** The tinySSB GATT service and its characteristics. */
object TinySsb {
    val SERVICE: UUID = UUID.fromString("6e400001-7646-4b5b-9a50-71becce51558")
    val RX: UUID = UUID.fromString("6e400002-7646-4b5b-9a50-71becce51558")
    val TX: UUID = UUID.fromString("6e400003-7646-4b5b-9a50-71becce51558")
    const val PROP_WRITE = 0x08
    const val PROP_NOTIFY = 0x10

    /** The MTU asked for: a 120-byte packet needs 123; Android may grant up to 517. */
    const val WANT_MTU = 517
    const val MIN_MTU = 123
}

/**
 * One GATT connection, as blocking calls (the Android adapter turns BluetoothGatt's
 * callbacks into these; the tests speak the dongle emulator's socket). Each call is one
 * GATT operation; [CentralAdapter] never issues two at once on a connection.
 */
interface GattConnection {
    /** Exchanges the MTU; the agreed value. */
    fun requestMtu(want: Int): Int

    /** Discovers services: service UUID → characteristic UUID → property bits. */
    fun discover(): Map<UUID, Map<UUID, Int>>

    /** Enables notifications of [char] (the CCCD write); true if the peripheral agreed. */
    fun subscribe(char: UUID): Boolean

    /** Writes with response; 0 for success, else the ATT error code. */
    fun write(char: UUID, value: ByteArray): Int

    fun close()
}

/** What a connection reports on its own. */
interface GattEvents {
    fun notified(char: UUID, value: ByteArray)
    fun disconnected(reason: String)
}

/** The platform's Bluetooth central, thin: the Android layer implements it over BluetoothLeScanner/BluetoothGatt. */
interface GattPort {
    fun adapterState(): AdapterState

    /** Scans with a filter on [service]; [found] for each advertisement. */
    fun startScan(service: UUID, found: (id: String, name: String, rssi: Int?) -> Unit)
    fun stopScan()

    /** Connects; throws [OpenException] (DeviceGone, PermissionMissing, Failed). */
    fun connect(id: String, events: GattEvents): GattConnection
}

/**
 * The bindings' [BleCentral] over a [GattPort]: what Lichen's pairing and its reconnecting
 * supervisor drive. The decisions are here (MTU, the service check, one GATT operation at a
 * time per device, writes with response, only TX notifications passed on, a disconnect
 * reported once), so they run on the JVM against the real library.
 */
class CentralAdapter(private val port: GattPort) : BleCentral {
    private class Device(val conn: GattConnection) {
        /** One GATT operation at a time: Android drops a second one silently. */
        val op = Any()
        @Volatile var open = true
    }

    private val devices = ConcurrentHashMap<String, Device>()

    /** Connections opened so far (the dongle screen counts reconnects with it). */
    @Volatile var opens = 0
        private set

    override fun adapterState(): AdapterState = port.adapterState()

    override fun startScan(sink: ScanSink) {
        try {
            port.startScan(TinySsb.SERVICE) { id, name, rssi -> sink.found(id, name, rssi?.toShort()) }
        } catch (e: Exception) {
            throw CallbackException.Failed("scanning failed: ${e.message}")
        }
    }

    override fun stopScan() {
        try {
            port.stopScan()
        } catch (_: Exception) {
        }
    }

    override fun connect(deviceId: String, sink: GattSink): UInt {
        devices.remove(deviceId)?.let { closeQuietly(it) }
        var device: Device? = null
        val events = object : GattEvents {
            override fun notified(char: UUID, value: ByteArray) {
                if (char == TinySsb.TX && device?.open == true) sink.notified(value)
            }

            override fun disconnected(reason: String) {
                val d = device ?: return
                if (d.open) {
                    d.open = false
                    devices.remove(deviceId, d)
                    sink.disconnected(reason)
                }
            }
        }
        val conn = try {
            port.connect(deviceId, events)
        } catch (e: OpenException) {
            throw e
        } catch (e: Exception) {
            throw OpenException.DeviceGone(e.message ?: "connecting failed")
        }
        val d = Device(conn)
        device = d
        try {
            val mtu = synchronized(d.op) { conn.requestMtu(TinySsb.WANT_MTU) }
            val chars = synchronized(d.op) { conn.discover() }[TinySsb.SERVICE]
                ?: throw OpenException.ServiceMissing("the tinySSB service")
            if ((chars[TinySsb.RX] ?: 0) and TinySsb.PROP_WRITE == 0 ||
                (chars[TinySsb.TX] ?: 0) and TinySsb.PROP_NOTIFY == 0
            ) {
                throw OpenException.ServiceMissing("the RX/TX characteristics")
            }
            if (!synchronized(d.op) { conn.subscribe(TinySsb.TX) }) {
                throw OpenException.Failed("the dongle refused notifications")
            }
            devices[deviceId] = d
            opens++
            // Lichen checks the MTU against a whole packet and refuses a small one itself.
            return mtu.coerceAtLeast(0).toUInt()
        } catch (e: OpenException) {
            d.open = false
            closeQuietly(d)
            throw e
        } catch (e: Exception) {
            d.open = false
            closeQuietly(d)
            throw OpenException.DeviceGone(e.message ?: "the connection failed")
        }
    }

    override fun write(deviceId: String, value: ByteArray) {
        val d = devices[deviceId] ?: throw CallbackException.Failed("not connected")
        val code = try {
            synchronized(d.op) { d.conn.write(TinySsb.RX, value) }
        } catch (e: Exception) {
            throw CallbackException.Failed("link lost: ${e.message}")
        }
        if (code != 0) throw CallbackException.Failed("ATT error 0x%02x".format(code))
    }

    override fun close(deviceId: String) {
        devices.remove(deviceId)?.let {
            it.open = false
            closeQuietly(it)
        }
    }

    private fun closeQuietly(d: Device) {
        try {
            d.conn.close()
        } catch (_: Exception) {
        }
    }
}

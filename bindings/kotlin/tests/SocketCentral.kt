// A foreign BLE central written in Kotlin over the dongle emulator's socket (GATT over TCP,
// core/src/ble/gatt_wire.rs: `u16 length ‖ u8 type ‖ body`): the operations an Android app
// performs with BluetoothGatt, here on a loopback socket.
package org.lichen.test

import org.lichen.AdapterState
import org.lichen.BleCentral
import org.lichen.CallbackException
import org.lichen.GattSink
import org.lichen.OpenException
import org.lichen.ScanSink
import java.io.DataInputStream
import java.io.EOFException
import java.io.IOException
import java.io.OutputStream
import java.math.BigInteger
import java.net.InetSocketAddress
import java.net.Socket
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

object Gatt {
    val SERVICE = BigInteger("6e40000176464b5b9a5071becce51558", 16)
    val RX = BigInteger("6e40000276464b5b9a5071becce51558", 16)
    val TX = BigInteger("6e40000376464b5b9a5071becce51558", 16)
    const val PROP_WRITE = 0x08
    const val PROP_NOTIFY = 0x10
    const val T_SCAN = 1
    const val T_ADVERT = 2
    const val T_MTU_REQ = 3
    const val T_MTU_RSP = 4
    const val T_DISCOVER = 5
    const val T_SERVICES = 6
    const val T_SUBSCRIBE = 7
    const val T_WRITE = 8
    const val T_WRITE_RSP = 9
    const val T_NOTIFY = 10
    const val T_BUSY = 11

    fun uuidBytes(u: BigInteger): ByteArray {
        val raw = u.toByteArray()
        val out = ByteArray(16)
        val src = if (raw.size > 16) raw.copyOfRange(raw.size - 16, raw.size) else raw
        System.arraycopy(src, 0, out, 16 - src.size, src.size)
        return out
    }

    fun u128(b: ByteArray, at: Int): BigInteger = BigInteger(1, b.copyOfRange(at, at + 16))

    fun send(out: OutputStream, type: Int, body: ByteArray = ByteArray(0)) {
        val n = body.size + 1
        val frame = ByteArray(3 + body.size)
        frame[0] = (n shr 8).toByte()
        frame[1] = n.toByte()
        frame[2] = type.toByte()
        System.arraycopy(body, 0, frame, 3, body.size)
        synchronized(out) {
            out.write(frame)
            out.flush()
        }
    }

    /** One message: its type and body. Throws EOFException when the peer closed. */
    fun read(inp: DataInputStream): Pair<Int, ByteArray> {
        val n = inp.readUnsignedShort()
        if (n < 1) throw IOException("empty GATT message")
        val frame = ByteArray(n)
        inp.readFully(frame)
        return Pair(frame[0].toInt() and 0xff, frame.copyOfRange(1, n))
    }

    data class Advert(val name: String, val rssi: Int, val services: List<BigInteger>)

    fun parseAdvert(b: ByteArray): Advert {
        val rssi = b[0].toInt()
        val n = b[1].toInt() and 0xff
        val name = String(b, 2, n, Charsets.UTF_8)
        val count = b[2 + n].toInt() and 0xff
        val services = (0 until count).map { u128(b, 3 + n + 16 * it) }
        return Advert(name, rssi, services)
    }

    /** service UUID → (characteristic UUID → properties). */
    fun parseServices(b: ByteArray): Map<BigInteger, Map<BigInteger, Int>> {
        val out = HashMap<BigInteger, Map<BigInteger, Int>>()
        var i = 1
        repeat(b[0].toInt() and 0xff) {
            val uuid = u128(b, i)
            val n = b[i + 16].toInt() and 0xff
            i += 17
            val chars = HashMap<BigInteger, Int>()
            repeat(n) {
                chars[u128(b, i)] = b[i + 16].toInt() and 0xff
                i += 17
            }
            out[uuid] = chars
        }
        return out
    }
}

private fun hostPort(id: String): InetSocketAddress {
    val at = id.lastIndexOf(':')
    return InetSocketAddress(id.substring(0, at), id.substring(at + 1).toInt())
}

/** One open connection: a reader thread hands notifications to the sink, write answers to `answers`. */
private class Device(val sock: Socket, val sink: GattSink) {
    val out: OutputStream = sock.getOutputStream()
    val answers = LinkedBlockingQueue<Int>()
    private val reader = Thread({ read() }, "gatt-reader").apply { isDaemon = true }

    fun start() = reader.start()

    private fun read() {
        var why = "the dongle closed the connection"
        try {
            val inp = DataInputStream(sock.getInputStream())
            while (true) {
                val (type, body) = Gatt.read(inp)
                if (type == Gatt.T_NOTIFY && body.size >= 16 && Gatt.u128(body, 0) == Gatt.TX) {
                    sink.notified(body.copyOfRange(16, body.size))
                } else if (type == Gatt.T_WRITE_RSP && body.isNotEmpty()) {
                    answers.put(body[0].toInt() and 0xff)
                }
            }
        } catch (e: EOFException) {
            why = "link lost: closed"
        } catch (e: IOException) {
            why = "link lost: ${e.message}"
        }
        answers.put(-1)
        sink.disconnected(why)
    }
}

/** What an Android app implements with BluetoothGatt, here over the emulator's socket. */
class SocketCentral(private val addrs: List<String>) : BleCentral {
    private val devices = ConcurrentHashMap<String, Device>()
    val opens = AtomicInteger(0)

    @Volatile var openDelayMs = 0L

    override fun adapterState(): AdapterState = AdapterState.POWERED_ON

    override fun startScan(sink: ScanSink) {
        Thread({
            for (a in addrs) {
                try {
                    Socket().use { s ->
                        s.connect(hostPort(a), 1000)
                        s.soTimeout = 1000
                        Gatt.send(s.getOutputStream(), Gatt.T_SCAN)
                        val (type, body) = Gatt.read(DataInputStream(s.getInputStream()))
                        if (type == Gatt.T_ADVERT) {
                            val ad = Gatt.parseAdvert(body)
                            if (Gatt.SERVICE in ad.services) sink.found(a, ad.name, ad.rssi.toShort())
                        }
                    }
                } catch (e: IOException) {
                    // not there: nothing found at this address
                }
            }
        }, "gatt-scan").apply { isDaemon = true }.start()
    }

    override fun stopScan() {}

    override fun connect(deviceId: String, sink: GattSink): UInt {
        if (openDelayMs > 0) Thread.sleep(openDelayMs)
        val s = Socket()
        val mtu: Int
        try {
            s.connect(hostPort(deviceId), 3000)
            s.soTimeout = 3000
            s.tcpNoDelay = true
            val inp = DataInputStream(s.getInputStream())
            val out = s.getOutputStream()
            fun ask(type: Int, body: ByteArray = ByteArray(0)): Pair<Int, ByteArray> {
                Gatt.send(out, type, body)
                val got = Gatt.read(inp)
                if (got.first == Gatt.T_BUSY) throw OpenException.DeviceGone("busy")
                return got
            }
            val (_, mtuBody) = ask(Gatt.T_MTU_REQ, byteArrayOf(0, 128.toByte()))
            mtu = minOf(((mtuBody[0].toInt() and 0xff) shl 8) or (mtuBody[1].toInt() and 0xff), 128)
            val (_, svc) = ask(Gatt.T_DISCOVER)
            val chars = Gatt.parseServices(svc)[Gatt.SERVICE]
                ?: throw OpenException.ServiceMissing("tinySSB service")
            if (((chars[Gatt.RX] ?: 0) and Gatt.PROP_WRITE) == 0 || ((chars[Gatt.TX] ?: 0) and Gatt.PROP_NOTIFY) == 0) {
                throw OpenException.ServiceMissing("RX/TX characteristics")
            }
            val (t, sub) = ask(Gatt.T_SUBSCRIBE, Gatt.uuidBytes(Gatt.TX))
            if (t != Gatt.T_WRITE_RSP || sub.isEmpty() || sub[0].toInt() != 0) {
                throw OpenException.Failed("subscription refused")
            }
            s.soTimeout = 0
        } catch (e: IOException) {
            s.close()
            throw OpenException.DeviceGone(e.toString())
        } catch (e: OpenException) {
            s.close()
            throw e
        }
        val d = Device(s, sink)
        devices[deviceId] = d
        d.start()
        opens.incrementAndGet()
        return mtu.toUInt()
    }

    override fun write(deviceId: String, value: ByteArray) {
        val d = devices[deviceId] ?: throw CallbackException.Failed("not connected")
        try {
            Gatt.send(d.out, Gatt.T_WRITE, Gatt.uuidBytes(Gatt.RX) + value)
        } catch (e: IOException) {
            throw CallbackException.Failed("link lost: $e")
        }
        val code = d.answers.poll(5, TimeUnit.SECONDS) ?: throw CallbackException.Failed("no answer")
        if (code < 0) throw CallbackException.Failed("link lost")
        if (code != 0) throw CallbackException.Failed("ATT error 0x%02x".format(code))
    }

    override fun close(deviceId: String) {
        devices.remove(deviceId)?.let {
            try {
                it.sock.shutdownInput()
            } catch (e: IOException) {
            }
            it.sock.close()
        }
    }
}

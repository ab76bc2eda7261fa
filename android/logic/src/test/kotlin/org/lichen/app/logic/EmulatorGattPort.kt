package org.lichen.app.logic

import java.io.DataInputStream
import java.io.EOFException
import java.io.IOException
import java.io.OutputStream
import java.net.InetSocketAddress
import java.net.Socket
import java.nio.ByteBuffer
import java.util.UUID
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import org.lichen.AdapterState
import org.lichen.OpenException

/**
 * The platform side of the central, over the dongle emulator's socket instead of a radio:
 * GATT as length-prefixed messages (core/src/ble/gatt_wire.rs). It plays the part
 * BluetoothLeScanner and BluetoothGatt play on a phone, so the logic above it
 * (CentralAdapter) is the one the app runs.
 */
class EmulatorGattPort(private val addrs: List<String>) : GattPort {
    @Volatile var state: AdapterState = AdapterState.POWERED_ON

    override fun adapterState(): AdapterState = state

    override fun startScan(service: UUID, found: (id: String, name: String, rssi: Int?) -> Unit) {
        Thread {
            for (a in addrs) {
                try {
                    open(a, 1000).use { s ->
                        send(s.getOutputStream(), T_SCAN, ByteArray(0))
                        val (ty, body) = read(DataInputStream(s.getInputStream()))
                        if (ty == T_ADVERT) {
                            val ad = parseAdvert(body)
                            if (service in ad.services) found(a, ad.name, ad.rssi)
                        }
                    }
                } catch (_: IOException) {
                }
            }
        }.apply { isDaemon = true }.start()
    }

    override fun stopScan() {}

    override fun connect(id: String, events: GattEvents): GattConnection {
        val s = try {
            open(id, 3000)
        } catch (e: IOException) {
            throw OpenException.DeviceGone(e.message ?: "no answer")
        }
        s.tcpNoDelay = true
        s.soTimeout = 0
        return Conn(s, events)
    }

    private class Conn(val s: Socket, val events: GattEvents) : GattConnection {
        val out: OutputStream = s.getOutputStream()
        val answers = LinkedBlockingQueue<Pair<Int, ByteArray>>()
        val reader = Thread {
            var why = "the dongle closed the connection"
            try {
                val input = DataInputStream(s.getInputStream())
                while (true) {
                    val (ty, body) = read(input)
                    if (ty == T_NOTIFY && body.size >= 16) {
                        events.notified(uuid(body, 0), body.copyOfRange(16, body.size))
                    } else {
                        answers.put(ty to body)
                    }
                }
            } catch (e: IOException) {
                why = "link lost: ${e.message}"
            }
            answers.put(-1 to ByteArray(0))
            events.disconnected(why)
        }.apply { isDaemon = true; start() }

        fun ask(ty: Int, body: ByteArray): ByteArray {
            synchronized(out) { send(out, ty, body) }
            val (got, rest) = answers.poll(5, TimeUnit.SECONDS) ?: throw IOException("no answer in 5 s")
            if (got == T_BUSY) throw OpenException.DeviceGone("the dongle is busy (three centrals)")
            if (got < 0) throw IOException("link lost")
            return rest
        }

        override fun requestMtu(want: Int): Int {
            val b = ask(T_MTU_REQ, ByteBuffer.allocate(2).putShort(want.toShort()).array())
            val theirs = ByteBuffer.wrap(b).short.toInt() and 0xffff
            return minOf(want, theirs)
        }

        override fun discover(): Map<UUID, Map<UUID, Int>> = parseServices(ask(T_DISCOVER, ByteArray(0)))

        override fun subscribe(char: UUID): Boolean {
            val b = ask(T_SUBSCRIBE, bytes(char))
            return b.isNotEmpty() && b[0].toInt() == 0
        }

        override fun write(char: UUID, value: ByteArray): Int {
            val b = ask(T_WRITE, bytes(char) + value)
            return if (b.isEmpty()) 0xff else b[0].toInt() and 0xff
        }

        override fun close() {
            try {
                s.shutdownOutput()
            } catch (_: IOException) {
            }
            s.close()
        }
    }

    data class Advert(val name: String, val rssi: Int, val services: List<UUID>)

    companion object {
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

        fun open(addr: String, timeoutMs: Int): Socket {
            val host = addr.substringBeforeLast(':')
            val port = addr.substringAfterLast(':').toIntOrNull() ?: throw IOException("bad address $addr")
            val s = Socket()
            s.connect(InetSocketAddress(host, port), timeoutMs)
            s.soTimeout = timeoutMs
            return s
        }

        fun send(out: OutputStream, ty: Int, body: ByteArray) {
            val n = body.size + 1
            out.write(byteArrayOf((n shr 8).toByte(), n.toByte(), ty.toByte()) + body)
            out.flush()
        }

        fun read(input: DataInputStream): Pair<Int, ByteArray> {
            val n = try {
                input.readUnsignedShort()
            } catch (e: EOFException) {
                throw IOException("closed")
            }
            if (n == 0) throw IOException("empty message")
            val frame = ByteArray(n)
            input.readFully(frame)
            return (frame[0].toInt() and 0xff) to frame.copyOfRange(1, n)
        }

        fun uuid(b: ByteArray, at: Int): UUID {
            val bb = ByteBuffer.wrap(b, at, 16)
            return UUID(bb.long, bb.long)
        }

        fun bytes(u: UUID): ByteArray =
            ByteBuffer.allocate(16).putLong(u.mostSignificantBits).putLong(u.leastSignificantBits).array()

        fun parseAdvert(b: ByteArray): Advert {
            val rssi = b[0].toInt()
            val n = b[1].toInt() and 0xff
            val name = String(b, 2, n, Charsets.UTF_8)
            val count = b[2 + n].toInt() and 0xff
            val services = (0 until count).map { uuid(b, 3 + n + 16 * it) }
            return Advert(name, rssi, services)
        }

        fun parseServices(b: ByteArray): Map<UUID, Map<UUID, Int>> {
            val out = mutableMapOf<UUID, Map<UUID, Int>>()
            var i = 1
            repeat(b[0].toInt() and 0xff) {
                val svc = uuid(b, i)
                val n = b[i + 16].toInt() and 0xff
                i += 17
                val chars = mutableMapOf<UUID, Int>()
                repeat(n) {
                    chars[uuid(b, i)] = b[i + 16].toInt() and 0xff
                    i += 17
                }
                out[svc] = chars
            }
            return out
        }
    }
}

package org.lichen.app.logic

import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import org.lichen.FrameSender
import org.lichen.LinkException
import org.lichen.Links
import org.lichen.NativeLink
import org.lichen.SendOutcome

/** The GATT server's TX side, thin: notify one central (BluetoothGattServer.notifyCharacteristicChanged). */
interface NotifyPort {
    /** Queues a notification of [value] on TX to [central]; false if the stack refused it. */
    fun notify(central: String, value: ByteArray): Boolean
}

/**
 * Phone to phone, the peripheral side: one native link per subscribed central. Each frame
 * Lichen sends is notified and counts as sent only when the stack reports it went out
 * (onNotificationSent), so at most one notification per central is in flight, as Android
 * requires. Writes to RX go to the link; a disconnect (or Bluetooth off) takes it down.
 */
class PeripheralSessions(
    private val links: Links,
    private val port: NotifyPort,
    private val sentTimeoutMs: Long = 4000,
) {
    private class Session(val central: String) {
        /** GATT status of each notification that went out, in order. */
        val sent = LinkedBlockingQueue<Int>()
        @Volatile var link: NativeLink? = null
    }

    private val sessions = ConcurrentHashMap<String, Session>()

    /** Centrals with a link up now: the "phones nearby" of the status strip. */
    fun connected(): Int = sessions.values.count { it.link?.isUp() == true }

    /**
     * The central subscribed to TX with the negotiated [mtu]: attaches its link. Null when
     * it worked, else why not (too small an MTU, the node stopped): the caller disconnects.
     */
    fun onSubscribed(central: String, mtu: Int): String? {
        onDisconnected(central, "subscribed again")
        val s = Session(central)
        val sender = object : FrameSender {
            override fun send(frame: ByteArray): SendOutcome {
                s.sent.clear()
                if (!port.notify(central, frame)) return SendOutcome.Refused("the Bluetooth stack refused the notification")
                val status = s.sent.poll(sentTimeoutMs, TimeUnit.MILLISECONDS)
                    ?: return SendOutcome.Refused("no onNotificationSent within $sentTimeoutMs ms")
                return if (status == 0) SendOutcome.Sent else SendOutcome.Refused("GATT status $status")
            }
        }
        return try {
            s.link = links.attachNativeLink(central, mtu.coerceAtLeast(0).toUInt(), sender)
            sessions[central] = s
            null
        } catch (e: LinkException) {
            e.forPerson("the link could not be attached")
        }
    }

    /** onNotificationSent for [central] with the GATT [status] (0 = success). */
    fun onNotificationSent(central: String, status: Int) {
        sessions[central]?.sent?.offer(status)
    }

    /** A write to RX; true when the caller should answer it with success. */
    fun onWrite(central: String, value: ByteArray): Boolean {
        val link = sessions[central]?.link ?: return false
        return try {
            link.frameIn(value)
            true
        } catch (e: LinkException) {
            sessions.remove(central)
            false
        }
    }

    fun onDisconnected(central: String, reason: String) {
        sessions.remove(central)?.link?.linkDown(reason)
    }

    /** Bluetooth went off or the service stops: every link goes down. */
    fun allDown(reason: String) {
        for (c in sessions.keys.toList()) onDisconnected(c, reason)
    }
}
